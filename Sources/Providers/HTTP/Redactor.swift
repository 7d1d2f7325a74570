/// Removes secret values from text before it becomes an error message.
///
/// Secrets leave the process only in request headers, but a provider may echo a header back in
/// an error body, and curl's messages quote what it was given: every message is passed
/// through here before it leaves the adapter.
struct Redactor: Sendable, CustomStringConvertible, CustomReflectable {
    private let secrets: [String]

    init(_ headers: [SecretHeader]) {
        // Longest first, so `Bearer abc` is replaced whole before `abc` alone.
        secrets = Set(headers.flatMap { [$0.value, $0.secret] }).filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    var description: String { "Redactor(\(secrets.count) secrets)" }
    var customMirror: Mirror { Mirror(self, children: [:]) }

    func callAsFunction(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return result
    }
}
