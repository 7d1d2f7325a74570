import AssetDedupCore
import Foundation
import Testing

@Suite struct JSONValueTests {
    func text(_ value: JSONValue) -> String { String(decoding: value.serialized, as: UTF8.self) }

    @Test func writesEveryKindCompactlyInKeyOrder() {
        let value = JSONValue.object([
            ("z", .int(-3)), ("a", .null), ("b", .bool(true)), ("list", .strings(["x", "y"])),
            ("nested", .object([("n", .int(nil)), ("s", .string(nil))])),
        ])
        #expect(text(value) == #"{"z":-3,"a":null,"b":true,"list":["x","y"],"nested":{"n":null,"s":null}}"#)
    }

    @Test func escapesQuotesBackslashesAndControlCharacters() {
        #expect(text(.string("a\"b\\c\nd\te\r\u{1}\u{1f}")) == #""a\"b\\c\nd\te\r\u0001\u001f""#)
        #expect(text(.string("héllo ✓ 😀 </script>")) == "\"héllo ✓ 😀 </script>\"")
    }

    @Test func roundTripsThroughAParserForRandomStrings() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let scalars = (0..<Int.random(in: 0...40, using: &generator)).compactMap { _ in
                Unicode.Scalar(UInt32.random(in: 0...0x2FFF, using: &generator))
            }
            let original = String(String.UnicodeScalarView(scalars))
            let data = Data(JSONValue.object([("k", .string(original))]).serialized)
            let parsed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
            #expect(parsed["k"] == original)
        }
    }

    @Test func apiAnswersSpellOutNulls() {
        let answer = CheckResult.answer(sha256: SHA256Digest(bytes: [UInt8](repeating: 0, count: 32)), asset: nil, provider: nil)
        #expect(text(answer.json) == #"{"sha256":"\#(String(repeating: "0", count: 64))","exists":false,"asset_id":null,"provider_id":null,"uploaded_to_providers":[],"note":"No asset found with this hash"}"#)
    }
}
