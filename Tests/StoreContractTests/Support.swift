import AssetDedupCore

/// A stand-in content hash: 32 bytes of `seed`.
func digest(_ seed: UInt8) -> SHA256Digest { SHA256Digest(bytes: [UInt8](repeating: seed, count: 32)) }
