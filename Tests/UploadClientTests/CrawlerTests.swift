import Foundation
import Testing

@testable import UploadClient

/// A temporary folder tree, removed at the end of the test.
final class TempTree {
    let root: String
    init() throws {
        root = NSTemporaryDirectory() + "upload-client-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: root) }

    @discardableResult
    func file(_ relative: String, _ contents: String = "x") throws -> String {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

@Suite struct CrawlerTests {
    func names(_ files: [FoundFile], _ tree: TempTree) -> [String] {
        files.map { String($0.path.dropFirst(tree.root.count + 1)) }
    }

    func reasons(_ skipped: [SkippedFile], _ tree: TempTree) -> [String: String] {
        Dictionary(uniqueKeysWithValues: skipped.map { (String($0.path.dropFirst(tree.root.count + 1)), $0.reason) })
    }

    @Test func recursesInNameOrderSkippingJunkHiddenAndSymlinks() throws {
        let tree = try TempTree()
        try tree.file("b.jpg")
        try tree.file("a/z.png")
        try tree.file("a/.DS_Store")
        try tree.file("Thumbs.db")
        try tree.file("desktop.ini")
        try tree.file("._b.jpg")
        try tree.file(".secret")
        try tree.file(".git/config")
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/link.jpg", withDestinationPath: tree.root + "/b.jpg")
        let result = Crawler(options: CrawlOptions()).crawl([tree.root])
        #expect(names(result.files, tree) == ["a/z.png", "b.jpg"])
        #expect(
            reasons(result.skipped, tree) == [
                "a/.DS_Store": "system file", "Thumbs.db": "system file", "desktop.ini": "system file",
                "._b.jpg": "system file", ".secret": "hidden", ".git": "hidden", "link.jpg": "symlink",
            ])
        #expect(result.failed.isEmpty)
        #expect(result.files.first?.size == 1)
    }

    @Test func hiddenSymlinksAndSystemFilesWhenAsked() throws {
        let tree = try TempTree()
        try tree.file("b.jpg")
        try tree.file(".secret")
        try tree.file(".DS_Store")
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/link.jpg", withDestinationPath: tree.root + "/b.jpg")
        var options = CrawlOptions()
        options.includeHidden = true
        options.followSymlinks = true
        options.includeSystemFiles = true
        let result = Crawler(options: options).crawl([tree.root])
        #expect(names(result.files, tree) == [".DS_Store", ".secret", "b.jpg", "link.jpg"])
    }

    @Test func includeAndExcludeGlobs() throws {
        let tree = try TempTree()
        try tree.file("a.jpg")
        try tree.file("b.png")
        try tree.file("raw/c.jpg")
        try tree.file("raw/d.txt")
        var options = CrawlOptions()
        options.include = ["*.jpg", "*.png"]
        options.exclude = ["raw/*"]
        let result = Crawler(options: options).crawl([tree.root])
        #expect(names(result.files, tree) == ["a.jpg", "b.png"])
        #expect(reasons(result.skipped, tree) == ["raw/c.jpg": "excluded", "raw/d.txt": "not included"])
    }

    @Test func namedFilesAreTakenOnceAndMissingOnesFail() throws {
        let tree = try TempTree()
        let a = try tree.file(".hidden-but-named")
        let result = Crawler(options: CrawlOptions()).crawl([a, a, tree.root + "/missing"])
        #expect(result.files.map(\.path) == [a])
        #expect(result.failed.map(\.path) == [tree.root + "/missing"])
    }
}

@Suite struct FileHasherTests {
    @Test func streamsTheSameDigestAsTheServer() throws {
        let tree = try TempTree()
        let empty = try tree.file("empty", "")
        let abc = try tree.file("abc", "abc")
        let big = tree.root + "/big"
        // Three chunks and a bit: the chunk loop, not one read.
        try Data(repeating: 0x61, count: FileHasher.chunkSize * 3 + 5).write(to: URL(fileURLWithPath: big))
        #expect(
            try FileHasher.hash(path: empty).get().sha256
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            try FileHasher.hash(path: abc).get()
                == HashedFile(path: abc, size: 3, sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(try FileHasher.hash(path: big).get().size == Int64(FileHasher.chunkSize * 3 + 5))
    }

    @Test func aMissingFileIsAReasonNotACrash() {
        guard case .failure(let error) = FileHasher.hash(path: "/nonexistent/file") else {
            Issue.record("hashed a missing file")
            return
        }
        #expect(error.reason.hasPrefix("cannot open"))
    }

    @Test func aFileThatChangesWhileReadFails() throws {
        let tree = try TempTree()
        let grown = try tree.file("grown", "abc")
        let result = FileHasher.hash(path: grown) {
            let handle = FileHandle(forWritingAtPath: grown)!
            handle.seekToEndOfFile()
            handle.write(Data("d".utf8))
            handle.closeFile()
        }
        #expect(result == .failure(HashError(reason: "changed while read (size or modification time differ)")))

        let touched = try tree.file("touched", "abc")
        let touchedResult = FileHasher.hash(path: touched) {
            var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, touched, &times, 0)
        }
        #expect(touchedResult == .failure(HashError(reason: "changed while read (size or modification time differ)")))
    }

    @Test func parallelMapKeepsOrder() {
        let out = parallelMap(Array(0..<200), jobs: 4) { $0 * 2 }
        #expect(out == (0..<200).map { $0 * 2 })
    }
}

@Suite struct CredentialsTests {
    @Test func tokenFileThenEnvironmentThenConfig() throws {
        let tree = try TempTree()
        try tree.file("cfg/assetdedup/upload.json", #"{"server": "http://cfg:1", "token": "from-config"}"#)
        let tokenFile = try tree.file("token", "from-file\n")
        let env = ["XDG_CONFIG_HOME": tree.root + "/cfg", "ASSETDEDUP_TOKEN": "from-env"]
        #expect(
            try Credentials.resolve(server: nil, tokenFile: tokenFile, environment: env)
                == Credentials(server: "http://cfg:1", token: "from-file"))
        #expect(try Credentials.resolve(server: "https://s", tokenFile: nil, environment: env).token == "from-env")
        var noEnv = env
        noEnv["ASSETDEDUP_TOKEN"] = nil
        #expect(try Credentials.resolve(server: nil, tokenFile: nil, environment: noEnv).token == "from-config")
    }

    @Test func noTokenOrNoServerIsAProblem() throws {
        let tree = try TempTree()
        let env = ["XDG_CONFIG_HOME": tree.root]
        #expect(throws: Credentials.Problem.self) { try Credentials.resolve(server: "http://s", tokenFile: nil, environment: env) }
        #expect(throws: Credentials.Problem.self) {
            try Credentials.resolve(server: nil, tokenFile: nil, environment: env.merging(["ASSETDEDUP_TOKEN": "t"]) { $1 })
        }
        #expect(throws: Credentials.Problem.self) {
            try Credentials.resolve(server: "ftp://s", tokenFile: nil, environment: ["ASSETDEDUP_TOKEN": "t"])
        }
    }
}
