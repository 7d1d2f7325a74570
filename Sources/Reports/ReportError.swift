/// A report could not be written; the previously published report is left as it was.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
