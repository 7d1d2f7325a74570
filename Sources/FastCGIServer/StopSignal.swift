#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM/SIGINT through a self-pipe: the handler only writes the signal number (async-signal
/// safe), and `wait()` blocks the main thread on the pipe. Works whichever thread the kernel
/// picks to deliver the signal to, unlike `sigwait`, which needs the signal blocked in every
/// thread (including ones the runtime started before us).
enum StopSignal {
    /// The pipe's file descriptors; written once in `install` before any signal can arrive.
    nonisolated(unsafe) static var pipeFDs: [Int32] = [-1, -1]
    nonisolated(unsafe) static var writeFD: Int32 = -1

    static func install() {
        guard writeFD < 0 else { return }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        pipeFDs = fds
        writeFD = fds[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(StopSignal.writeFD, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
    }

    /// Blocks until a stop signal arrives (or `raise` is called); returns its number.
    static func wait() -> Int32 {
        var byte: UInt8 = 0
        while read(pipeFDs[0], &byte, 1) < 0 && errno == EINTR {}
        return Int32(byte)
    }

    /// Wakes `wait()` from inside the process (a worker failed to start).
    static func raise(_ signal: Int32) {
        var byte = UInt8(truncatingIfNeeded: signal)
        _ = write(writeFD, &byte, 1)
    }
}
