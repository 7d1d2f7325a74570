/// Validates the names of users, which appear in CLI arguments, reports and logs.
public enum UserName {
    /// Returns the name if it is 1-64 characters of letters, digits, '.', '_', '-' or '@'.
    public static func validate(_ name: String) throws(ValidationError) -> String {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-_@".unicodeScalars.contains(scalar))
        }
        guard (1...64).contains(name.count), allowed else {
            throw ValidationError(
                code: .invalidUserName,
                message: "user name must be 1 to 64 characters of letters, digits, '.', '_', '-' or '@', got '\(name)'")
        }
        return name
    }
}
