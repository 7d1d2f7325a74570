#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A regular file found by the crawl, and why one was left out.
public struct FoundFile: Sendable, Equatable {
    public let path: String
    public let size: Int64
    public init(path: String, size: Int64) {
        self.path = path
        self.size = size
    }
}

public struct SkippedFile: Sendable, Equatable {
    public let path: String
    public let reason: String
}

/// What the crawl takes: hidden names and symlinks only when asked; OS junk never unless asked;
/// `include` globs (any matches, when given) and `exclude` globs (none matches). A glob without
/// `/` is matched against the file name, one with `/` against the path below the named root.
public struct CrawlOptions: Sendable {
    public var includeHidden = false
    public var followSymlinks = false
    public var includeSystemFiles = false
    public var include: [String] = []
    public var exclude: [String] = []
    public init() {}

    public static let systemFileNames: Set<String> = [".DS_Store", "Thumbs.db", "desktop.ini"]

    public static func isSystemFile(_ name: String) -> Bool {
        systemFileNames.contains(name) || name.hasPrefix("._")
    }

    static func glob(_ pattern: String, matches name: String, relative: String) -> Bool {
        let subject = pattern.contains("/") ? relative : name
        return fnmatch(pattern, subject, 0) == 0
    }

    /// Whether a regular file named `name` at `relative` (below its root) is taken; the reason if not.
    public func refusal(name: String, relative: String) -> String? {
        if !includeSystemFiles && Self.isSystemFile(name) { return "system file" }
        if !includeHidden && name.hasPrefix(".") { return "hidden" }
        if !include.isEmpty && !include.contains(where: { Self.glob($0, matches: name, relative: relative) }) {
            return "not included"
        }
        if exclude.contains(where: { Self.glob($0, matches: name, relative: relative) }) { return "excluded" }
        return nil
    }
}

/// Walks files and folders (recursively, in name order, each file once), reporting what it
/// leaves out. Hidden folders are not entered unless asked, symlinks are not followed unless asked.
public struct Crawler {
    public let options: CrawlOptions
    public init(options: CrawlOptions) { self.options = options }

    public struct Result: Sendable {
        public var files: [FoundFile] = []
        public var skipped: [SkippedFile] = []
        /// Paths that could not be read at all (a missing argument, an unreadable folder).
        public var failed: [SkippedFile] = []
    }

    public func crawl(_ roots: [String]) -> Result {
        var result = Result()
        var seen = Set<String>()
        for root in roots {
            var st = stat()
            guard lstat(root, &st) == 0 else {
                result.failed.append(SkippedFile(path: root, reason: errnoText()))
                continue
            }
            // A symlink named on the command line is followed: the user asked for it.
            if (st.st_mode & S_IFMT) == S_IFLNK {
                guard stat(root, &st) == 0 else {
                    result.failed.append(SkippedFile(path: root, reason: errnoText()))
                    continue
                }
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                walk(directory: root, relative: "", into: &result, seen: &seen, depth: 0)
            } else if (st.st_mode & S_IFMT) == S_IFREG {
                let name = String(root.split(separator: "/").last ?? Substring(root))
                // A file named outright is taken whatever its name (globs still apply).
                var options = self.options
                options.includeHidden = true
                options.includeSystemFiles = true
                if let reason = options.refusal(name: name, relative: name) {
                    result.skipped.append(SkippedFile(path: root, reason: reason))
                } else if seen.insert(root).inserted {
                    result.files.append(FoundFile(path: root, size: Int64(st.st_size)))
                }
            } else {
                result.skipped.append(SkippedFile(path: root, reason: "not a regular file"))
            }
        }
        return result
    }

    private func walk(directory: String, relative: String, into result: inout Result, seen: inout Set<String>, depth: Int) {
        guard depth < 64 else {
            result.skipped.append(SkippedFile(path: directory, reason: "too deep"))
            return
        }
        guard let dir = opendir(directory) else {
            result.failed.append(SkippedFile(path: directory, reason: errnoText()))
            return
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        names.sort()
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        for name in names {
            let path = base + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else {
                result.failed.append(SkippedFile(path: path, reason: errnoText()))
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFLNK {
                guard options.followSymlinks else {
                    result.skipped.append(SkippedFile(path: path, reason: "symlink"))
                    continue
                }
                guard stat(path, &st) == 0 else {
                    result.failed.append(SkippedFile(path: path, reason: errnoText()))
                    continue
                }
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                if !options.includeHidden && name.hasPrefix(".") {
                    result.skipped.append(SkippedFile(path: path, reason: "hidden"))
                } else {
                    walk(directory: path, relative: rel, into: &result, seen: &seen, depth: depth + 1)
                }
            case S_IFREG:
                if let reason = options.refusal(name: name, relative: rel) {
                    result.skipped.append(SkippedFile(path: path, reason: reason))
                } else if seen.insert(path).inserted {
                    result.files.append(FoundFile(path: path, size: Int64(st.st_size)))
                }
            default:
                result.skipped.append(SkippedFile(path: path, reason: "not a regular file"))
            }
        }
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
