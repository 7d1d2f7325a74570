import Foundation
import Testing

@testable import UploadClient

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 100.0
    func read() -> Double { lock.withLock { now } }
    func advance(_ seconds: Double) { lock.withLock { now += seconds } }
}

/// What a printer wrote, in order.
final class Written: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ s: String) { lock.withLock { parts.append(s) } }
    var all: [String] { lock.withLock { parts } }
}

@Suite struct ProgressTests {
    @Test func rateAndETAComeFromTheBytesDoneSoFar() {
        let clock = ManualClock()
        let progress = UploadProgress(clock: clock.read)
        progress.begin("sending", files: 4, bytes: 4_000_000)
        #expect(progress.snapshot.line == "sending: files 0/4, 0 B of 4.0 MB, - B/s, ETA -")
        clock.advance(2)
        progress.advance(files: 1, bytes: 1_000_000)
        let s = progress.snapshot
        #expect(s.rate == 500_000)
        #expect(s.eta == 6)
        #expect(s.line == "sending: files 1/4, 1.0 MB of 4.0 MB, 500.0 kB/s, ETA 0:06")
    }

    @Test func durationsAndSizesRead() {
        #expect(UploadProgress.Snapshot.duration(3725) == "1:02:05")
        #expect(UploadProgress.Snapshot.duration(59.6) == "1:00")
        #expect(UploadProgress.Snapshot.bytes(999) == "999 B")
        #expect(UploadProgress.Snapshot.bytes(1_234_567_890) == "1.2 GB")
    }

    @Test func aTerminalGetsOneLineRedrawnAtMostTenTimesASecondAndTheEnd() {
        let clock = ManualClock()
        let written = Written()
        let printer = ProgressPrinter(tty: true, clock: clock.read, write: written.append)
        let progress = UploadProgress(clock: clock.read)
        progress.onChange = { printer.show($0) }
        progress.begin("hashing", files: 3, bytes: 30)
        progress.advance(files: 1, bytes: 10)  // within 0.1 s of the first draw: not drawn
        clock.advance(0.2)
        progress.advance(files: 1, bytes: 10)
        progress.advance(files: 1, bytes: 10)  // the phase's end: always drawn
        printer.finish()
        let lines = written.all
        #expect(lines.count == 4)
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("\r\u{1B}[K") && !$0.contains("\n") })
        #expect(lines[2] == "\r\u{1B}[Khashing: files 3/3, 30 B of 30 B, 150 B/s, ETA 0:00")
        #expect(lines.last == "\n")
    }

    @Test func aPipeGetsPlainLinesAtPhaseEndsAndEveryFewSeconds() {
        let clock = ManualClock()
        let written = Written()
        let printer = ProgressPrinter(tty: false, plainInterval: 5, clock: clock.read, write: written.append)
        let progress = UploadProgress(clock: clock.read)
        progress.onChange = { printer.show($0) }
        progress.begin("sending", files: 10, bytes: 100)
        for _ in 0..<9 {
            clock.advance(1)
            progress.advance(files: 1, bytes: 10)
        }
        progress.advance(files: 1, bytes: 10)
        printer.finish()
        let lines = written.all
        #expect(lines.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") && !$0.contains("\u{1B}") })
        #expect(
            lines.map { $0.components(separatedBy: ",")[0] } == [
                "sending: files 0/10", "sending: files 5/10", "sending: files 10/10",
            ])
    }
}
