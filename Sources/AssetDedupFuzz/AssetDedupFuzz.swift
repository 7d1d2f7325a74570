import Foundation
import FuzzTargets

// Built two ways. With `-Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING` (scripts/fuzz) it is a
// libFuzzer target: libFuzzer owns `main` and calls `LLVMFuzzerTestOneInput`. In a plain build
// it replays files: `AssetDedupFuzz TARGET FILE...`, for reproducing a crash libFuzzer saved.

/// The target from `ASSETDEDUP_FUZZ_TARGET`, else nil (the input's first byte picks one).
private func targetFromEnvironment() -> FuzzTarget? {
    ProcessInfo.processInfo.environment["ASSETDEDUP_FUZZ_TARGET"].flatMap(FuzzTarget.init(rawValue:))
}

#if FUZZING
    /// One harness per process: libFuzzer calls the entry point on one thread, in sequence.
    nonisolated(unsafe) private var harness: FuzzHarness?
    nonisolated(unsafe) private var fixedTarget: FuzzTarget?

    /// libFuzzer's entry point: a broken promise is a crash, so libFuzzer saves the input.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        if harness == nil {
            harness = try! FuzzHarness()
            fixedTarget = targetFromEnvironment()
        }
        let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        let broken = fixedTarget.map { harness!.run($0, input) } ?? harness!.run(selectorAndInput: input)
        if !broken.isEmpty { fatalError("broken promise: " + broken.joined(separator: "; ")) }
        return 0
    }

    /// libFuzzer's driver (compiler-rt `FuzzerDriver.cpp`): parses libFuzzer's flags and runs the loop.
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    /// SwiftPM links every executable with `main` aliased to `<module>_main`; with libFuzzer
    /// there is no `@main`, so this is that entry point and it hands over to libFuzzer's driver.
    @_cdecl("AssetDedupFuzz_main")
    public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments) { fuzzOneInput($0, $1) }
    }
#else
    /// Replays saved inputs against one target and prints what they broke.
    @main
    struct ReplayFuzzInputs {
        static func main() throws {
            let arguments = CommandLine.arguments.dropFirst()
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
                let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
                FileHandle.standardError.write(Data("usage: AssetDedupFuzz \(names) FILE...\n".utf8))
                exit(2)
            }
            let harness = try FuzzHarness()
            var failed = 0
            for path in arguments.dropFirst() {
                let input = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
                let broken = harness.run(target, input)
                print("\(broken.isEmpty ? "ok    " : "BROKEN") \(path)")
                for line in broken { print("    \(line)") }
                if !broken.isEmpty { failed += 1 }
            }
            exit(failed == 0 ? 0 : 1)
        }
    }
#endif
