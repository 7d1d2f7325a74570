import Testing

@testable import SigV4

/// The secret and session token never reach a log through `print`, `dump` or string interpolation.
@Suite struct CredentialsTests {
    @Test func printingHidesTheSecretAndToken() {
        let signer = SigV4Signer(
            credentials: .init(accessKeyID: "AKID", secretAccessKey: "SECRETKEY", sessionToken: "TOKENVALUE"),
            region: "r")
        for text in [
            String(describing: signer), String(reflecting: signer), String(describing: signer.credentials),
            String(reflecting: signer.credentials),
        ] {
            #expect(text.contains("AKID"))
            #expect(!text.contains("SECRETKEY"))
            #expect(!text.contains("TOKENVALUE"))
        }
        var dumped = ""
        dump(signer, to: &dumped)
        #expect(!dumped.contains("SECRETKEY") && !dumped.contains("TOKENVALUE"))
    }
}
