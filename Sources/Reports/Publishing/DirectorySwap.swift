import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a published folder with a new one by rename, never leaving a half-written folder.
///
/// On Linux, `renameat2(RENAME_EXCHANGE)` swaps the two folders in one atomic step: a reader
/// (nginx) sees the old report or the new one, never neither. Swift's Glibc module does not
/// expose `renameat2`, so it is looked up with `dlsym`; where it is missing or the file system
/// refuses the flag, two renames are used and the gap between them is a few microseconds.
enum DirectorySwap {
    private typealias RenameAt2 = @convention(c) (
        Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32
    ) -> Int32

    /// Puts `staged` at `target`; the old `target` (if any) ends up at `retired`.
    /// Returns true when the old folder was moved to `retired` (the caller deletes it).
    static func publish(staged: String, target: String, retired: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: target) else {
            try move(staged, target)
            return false
        }
        if exchange(staged, target) {
            // `staged` now names the old report.
            try move(staged, retired)
            return true
        }
        try move(target, retired)
        do {
            try move(staged, target)
        } catch {
            try? move(retired, target)  // put the old report back
            throw error
        }
        return true
    }

    private static func exchange(_ a: String, _ b: String) -> Bool {
        #if os(Linux)
        guard let symbol = dlsym(nil, "renameat2") else { return false }  // nil is RTLD_DEFAULT in glibc
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let renameExchange: UInt32 = 1 << 1  // RENAME_EXCHANGE, linux/fs.h
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0
        #else
        return false
        #endif
    }

    private static func move(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else {
            throw ReportError("cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }
}
