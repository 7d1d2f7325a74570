import AssetDedupCore
import Testing

@Suite struct SHA256DigestTests {
    let lower = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    @Test func acceptsLowerCaseHex() throws {
        #expect(try SHA256Digest(parsing: lower).hex == lower)
    }

    @Test func normalisesUpperCase() throws {
        #expect(try SHA256Digest(parsing: lower.uppercased()).hex == lower)
    }

    @Test(arguments: [
        "", "abc", String(repeating: "a", count: 63), String(repeating: "a", count: 65),
        " " + String(repeating: "a", count: 63), String(repeating: "g", count: 64),
        String(repeating: "a", count: 63) + "é", String(repeating: "a", count: 62) + "\u{0}\u{0}",
    ])
    func rejectsAnythingElse(text: String) {
        #expect(throws: ValidationError.self) { try SHA256Digest(parsing: text) }
        do {
            _ = try SHA256Digest(parsing: text)
        } catch {
            #expect(error.code == .invalidSHA256)
        }
    }

    @Test func buildsFromBytes() {
        let digest = SHA256Digest(bytes: [UInt8](repeating: 0xab, count: 32))
        #expect(digest.hex == String(repeating: "ab", count: 32))
    }
}

@Suite struct IdentifierTests {
    @Test(arguments: ["pixverse", "a", "runway-2", "s3_archive", "0abc"])
    func validProviderIDs(text: String) throws {
        #expect(try ProviderID(parsing: text).rawValue == text)
    }

    @Test(arguments: ["", "Pixverse", "-x", "_x", "a b", "a/b", "../x", String(repeating: "a", count: 65), "é"])
    func invalidProviderIDs(text: String) {
        #expect(throws: ValidationError.self) { try ProviderID(parsing: text) }
    }

    @Test func assetIDsArePositiveIntegers() throws {
        #expect(try AssetID(parsing: "42").rawValue == 42)
        for bad in ["0", "-1", "abc", "", "1.5", "99999999999999999999"] {
            #expect(throws: ValidationError.self) { try AssetID(parsing: bad) }
        }
    }

    @Test func userNames() throws {
        #expect(try UserName.validate("alice@example.org") == "alice@example.org")
        for bad in ["", "a b", "x/y", String(repeating: "a", count: 65), "<script>"] {
            #expect(throws: ValidationError.self) { try UserName.validate(bad) }
        }
    }
}
