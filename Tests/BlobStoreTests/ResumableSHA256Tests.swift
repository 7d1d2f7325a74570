import AssetDedupCore
import BlobStore
import Testing

import struct Crypto.SHA256

/// libcrypto's saved SHA-256 state against swift-crypto: random lengths and chunkings, with a
/// save/restore between every chunk, must give the same digest as hashing the bytes at once.
@Suite struct ResumableSHA256Tests {
    /// A deterministic generator (SplitMix64), so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func expected(_ bytes: [UInt8]) -> AssetDedupCore.SHA256Digest { SHA256Digest(bytes: SHA256.hash(data: bytes)) }

    @Test func emptyInputAndKnownVector() {
        #expect(ResumableSHA256().finalize() == expected([]))
        var hasher = ResumableSHA256()
        hasher.update(Array("abc".utf8))
        #expect(hasher.finalize().hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test(arguments: 0..<40) func randomChunkingsAcrossSaveAndRestore(seed: UInt64) throws {
        var random = SplitMix(state: seed)
        let length = Int.random(in: 0...20_000, using: &random)
        let bytes = (0..<length).map { _ in UInt8.random(in: 0 ... .max, using: &random) }
        var hasher = ResumableSHA256()
        var index = 0
        while index < length {
            let size = min(Int.random(in: 1...257, using: &random), length - index)
            hasher.update(Array(bytes[index..<index + size]))
            index += size
            // Save and restore at every boundary, as one append per chunk would.
            hasher = try #require(ResumableSHA256(state: hasher.state))
            #expect(hasher.count == Int64(index))
        }
        #expect(hasher.finalize() == expected(bytes))
        #expect(hasher.finalize() == expected(bytes), "finalize leaves the state usable")
    }

    @Test func finalizeDoesNotEndTheStream() {
        var hasher = ResumableSHA256()
        hasher.update(Array("hello ".utf8))
        _ = hasher.finalize()
        hasher.update(Array("world".utf8))
        #expect(hasher.finalize() == expected(Array("hello world".utf8)))
    }

    @Test func foreignStatesAreRefused() {
        let state = ResumableSHA256().state
        #expect(ResumableSHA256(state: []) == nil)
        #expect(ResumableSHA256(state: Array(state.dropLast())) == nil)
        var wrongVersion = state
        wrongVersion[0] = 9
        #expect(ResumableSHA256(state: wrongVersion) == nil)
        #expect(ResumableSHA256(state: [UInt8](repeating: 0, count: state.count)) == nil)
    }
}
