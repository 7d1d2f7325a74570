import Foundation

/// How far a run is: one phase at a time (hashing, then sending), with files and bytes done
/// out of those known. Worker threads advance it; `onChange` hears every change (and throttles
/// drawing itself), so the counting knows nothing of terminals.
public final class UploadProgress: @unchecked Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var phase: String
        public var filesDone = 0
        public var filesTotal = 0
        public var bytesDone: Int64 = 0
        public var bytesTotal: Int64 = 0
        /// Seconds since the phase began.
        public var elapsed: Double = 0
    }

    private let lock = NSLock()
    private var state = Snapshot(phase: "crawling")
    private var started: Double
    private let clock: @Sendable () -> Double
    public var onChange: (@Sendable (Snapshot) -> Void)?

    /// `clock` is seconds on a monotonic scale (injected by tests).
    public init(clock: @escaping @Sendable () -> Double = UploadProgress.monotonicSeconds) {
        self.clock = clock
        self.started = clock()
    }

    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    public func begin(_ phase: String, files: Int, bytes: Int64) {
        let s = lock.withLock {
            started = clock()
            state = Snapshot(phase: phase, filesTotal: files, bytesTotal: bytes)
            return state
        }
        onChange?(s)
    }

    public func advance(files: Int = 0, bytes: Int64 = 0) {
        let s = lock.withLock {
            state.filesDone += files
            state.bytesDone += bytes
            state.elapsed = clock() - started
            return state
        }
        onChange?(s)
    }

    public var snapshot: Snapshot {
        lock.withLock {
            var s = state
            s.elapsed = clock() - started
            return s
        }
    }
}

extension UploadProgress.Snapshot {
    /// Bytes per second so far in this phase, nil before any time has passed.
    public var rate: Double? {
        elapsed > 0 && bytesDone > 0 ? Double(bytesDone) / elapsed : nil
    }

    /// Seconds left at the rate so far, nil while unknown.
    public var eta: Double? {
        guard let rate, rate > 0 else { return nil }
        return Double(max(0, bytesTotal - bytesDone)) / rate
    }

    /// `sending: files 3/10, 1.2 MB of 4.0 MB, 2.0 MB/s, ETA 0:02`: the same words on a terminal
    /// (redrawn) and in a log (one line each).
    public var line: String {
        var text = "\(phase): files \(filesDone)/\(filesTotal), \(Self.bytes(bytesDone)) of \(Self.bytes(bytesTotal))"
        text += ", " + (rate.map { Self.bytes(Int64($0.rounded())) + "/s" } ?? "- B/s")
        text += ", ETA " + (eta.map(Self.duration) ?? "-")
        return text
    }

    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// Draws progress on stderr: on a terminal one line redrawn in place (at most ten times a
/// second, and at each phase's end); elsewhere (a pipe, a log, cron) a plain line at each
/// phase's end and at most every `plainInterval` seconds, so logs stay short.
public final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private let tty: Bool
    private let write: @Sendable (String) -> Void
    private let clock: @Sendable () -> Double
    private let plainInterval: Double
    private var lastDraw = -Double.infinity
    private var drawn = false

    public init(
        tty: Bool, plainInterval: Double = 5, clock: @escaping @Sendable () -> Double = UploadProgress.monotonicSeconds,
        write: @escaping @Sendable (String) -> Void
    ) {
        self.tty = tty
        self.plainInterval = plainInterval
        self.clock = clock
        self.write = write
    }

    public func show(_ s: UploadProgress.Snapshot) {
        let finished = s.filesDone >= s.filesTotal
        lock.withLock {
            let now = clock()
            guard finished || now - lastDraw >= (tty ? 0.1 : plainInterval) else { return }
            lastDraw = now
            if tty {
                write("\r\u{1B}[K" + s.line)
                drawn = true
            } else if s.filesTotal > 0 {
                write(s.line + "\n")
            }
        }
    }

    /// Ends the redrawn line (left showing) so what follows starts on a line of its own.
    public func finish() {
        lock.withLock {
            if tty && drawn { write("\n") }
            drawn = false
        }
    }
}
