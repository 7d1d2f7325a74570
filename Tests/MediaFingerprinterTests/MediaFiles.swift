import Foundation
import PerceptualHash

/// A fresh temporary folder, removed after `body` whatever happens.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "mediafp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

struct ToolFailed: Error, CustomStringConvertible {
    let description: String
}

/// Runs a CLI tool (`vips`, `ffmpeg`; scripts/install-deps installs them) and fails the test with
/// its stderr when it fails.
func tool(_ name: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [name] + arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ToolFailed(
            description: "\(name) \(arguments.joined(separator: " ")): exit \(process.terminationStatus): "
                + String(decoding: stderr, as: UTF8.self))
    }
}

/// One frame of an ffmpeg lavfi source (`mandelbrot`, `testsrc2`, `life`...) as a file.
func lavfiImage(_ source: String, size: String = "640x480", to path: String) throws {
    try tool("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "\(source)=s=\(size)", "-frames:v", "1", path])
}

/// The first `seconds` of an ffmpeg lavfi source, encoded with the output `options`.
func lavfiVideo(_ source: String, seconds: Int, to path: String, _ options: [String]) throws {
    try tool("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", source, "-t", "\(seconds)"] + options + [path])
}

func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func bytes(of path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The image hash of an outcome, or nil.
extension FingerprintOutcome {
    var imageHash: PerceptualHash64? {
        if case .fingerprint(.image(let hash)) = self { return hash }
        return nil
    }

    var videoFrames: [PerceptualHash64]? {
        if case .fingerprint(.video(let frames, _)) = self { return frames }
        return nil
    }

    var reason: String? {
        if case .unavailable(let reason) = self { return reason }
        return nil
    }
}

/// A PNG whose header claims `width` x `height` with one tiny (invalid) IDAT: a decompression
/// bomb's header without its megabytes.
func pngHeaderBomb(width: UInt32, height: UInt32) -> [UInt8] {
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be(UInt32(data.count)) + body + be(crc32(body))
    }
    let ihdr = be(width) + be(height) + [8, 2, 0, 0, 0]  // 8-bit RGB
    let idat: [UInt8] = [0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat)
        + chunk("IEND", [])
}

func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// `jpeg` with an EXIF APP1 segment holding only Orientation (tag 0x0112) right after SOI.
func withOrientation(_ orientation: UInt8, jpeg: [UInt8]) -> [UInt8] {
    let tiff: [UInt8] = [
        0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,  // big-endian TIFF, IFD0 at 8
        0x00, 0x01,  // one entry
        0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00,  // SHORT x1
        0x00, 0x00, 0x00, 0x00,  // no next IFD
    ]
    let payload = Array("Exif".utf8) + [0, 0] + tiff
    let length = payload.count + 2
    let app1: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xff)] + payload
    return Array(jpeg.prefix(2)) + app1 + jpeg.dropFirst(2)
}
