import Crypto
import SHA256Kernel
import Testing

/// The browser's hash core checked natively against swift-crypto: NIST vectors, then random data
/// in random chunkings (what the wasm build sees when JavaScript feeds it file slices).
@Suite struct SHA256HasherTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func nistVectors(message: String, expected: String) {
        let bytes = Array(message.utf8)
        #expect(hex(kernelDigest(bytes, chunk: max(bytes.count, 1))) == expected)
        #expect(hex(kernelDigest(bytes, chunk: 1)) == expected)
        #expect(hex(Array(Crypto.SHA256.hash(data: bytes))) == expected)
    }

    @Test func millionAs() {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(hex(kernelDigest(bytes, chunk: 4096)) == expected)
        #expect(hex(kernelDigest(bytes, chunk: 999_983)) == expected)
    }

    @Test func randomLengthsAndChunkingsMatchSwiftCrypto() {
        var rng = SplitMix64(seed: 0x5eed_0f_5a_2561)
        for _ in 0..<300 {
            let length = Int(rng.next() % 5000)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let expected = Array(Crypto.SHA256.hash(data: bytes))
            let chunk = 1 + Int(rng.next() % 200)
            #expect(kernelDigest(bytes, chunk: chunk) == expected, "length \(length) chunk \(chunk)")
        }
    }

    @Test func boundaryLengthsAroundBlockAndBufferSizes() {
        var rng = SplitMix64(seed: 42)
        let all = (0..<(4 << 20 + 1)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 4 << 20 - 1, 4 << 20, 4 << 20 + 1] {
            let bytes = Array(all[0..<length])
            #expect(kernelDigest(bytes, chunk: 4 << 20) == Array(Crypto.SHA256.hash(data: bytes)))
        }
    }

    @Test func exportedCFunctionsHashLikeTheStruct() {
        let bytes = Array("abc".utf8)
        var digest = [UInt8](repeating: 0, count: 32)
        sha256Init()
        sha256Update(Array("zzz".utf8), 3)
        sha256Init()  // a new message drops the unfinished one
        bytes.withUnsafeBytes { sha256Update($0.baseAddress, $0.count) }
        digest.withUnsafeMutableBytes { sha256Final($0.baseAddress!) }
        #expect(hex(digest) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func finalizeResetsForTheNextMessage() {
        var hasher = SHA256Hasher()
        var first = [UInt8](repeating: 0, count: 32)
        var second = [UInt8](repeating: 0, count: 32)
        Array("abc".utf8).withUnsafeBytes { hasher.update($0) }
        first.withUnsafeMutableBytes { hasher.finalize(into: $0.baseAddress!) }
        Array("abc".utf8).withUnsafeBytes { hasher.update($0) }
        second.withUnsafeMutableBytes { hasher.finalize(into: $0.baseAddress!) }
        #expect(first == second)
    }
}

/// Hashes `bytes` through the kernel, `chunk` bytes per `update`.
private func kernelDigest(_ bytes: [UInt8], chunk: Int) -> [UInt8] {
    var hasher = SHA256Hasher()
    bytes.withUnsafeBytes { all in
        var offset = 0
        while offset < all.count {
            let end = min(offset + chunk, all.count)
            hasher.update(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
            offset = end
        }
    }
    var digest = [UInt8](repeating: 0, count: SHA256Hasher.digestByteCount)
    digest.withUnsafeMutableBytes { hasher.finalize(into: $0.baseAddress!) }
    return digest
}

private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}

/// A small seeded generator so failures reproduce.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
