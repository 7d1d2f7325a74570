import CFastCGI
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Answers requests on one worker thread; made on that thread, so it may own thread-bound
/// resources such as a database connection.
public protocol FastCGIResponder: AnyObject {
    func respond(to request: FastCGIRequest)
}

/// A libfcgi accept loop on N threads, with a graceful stop on SIGTERM/SIGINT.
///
/// Each thread owns one `FCGX_Request` at a stable address (libfcgi keeps pointers into it
/// between calls) and one responder. Knows nothing about HTTP routes or the domain.
public final class FastCGIServer: Sendable {
    public let address: ListenAddress
    private let listenFD: Int32
    private let stopping = Atomic<Bool>(false)

    /// Opens the listening socket. A stale unix socket file from a crashed run is replaced.
    public init(address: ListenAddress, backlog: Int32 = 1024) throws {
        self.address = address
        // Our own stop handler goes in before FCGX_Init, which installs libfcgi's SIGTERM handler
        // only over SIG_DFL (and that one merely sets a flag nobody would read).
        StopSignal.install()
        signal(SIGPIPE, SIG_IGN)
        guard FCGX_Init() == 0 else { throw ServerError("FCGX_Init failed") }
        if case .unix(let path) = address { unlink(path) }
        let fd = FCGX_OpenSocket(address.libfcgiPath, backlog)
        guard fd >= 0 else {
            throw ServerError("cannot listen on \(address): \(String(cString: strerror(errno)))")
        }
        // Owner and group only: nginx runs as the same user (see templates/nginx.conf.mustache).
        if case .unix(let path) = address { chmod(path, 0o660) }
        self.listenFD = fd
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, waits up to `grace` seconds for
    /// in-flight requests and returns. `makeResponder` runs once on each worker thread;
    /// `onStop` runs when the signal arrives, so requests that wait on something can finish
    /// within the grace.
    public func run(
        threads: Int, grace: Double = 10, makeResponder: @escaping @Sendable (Int) throws -> FastCGIResponder,
        log: @escaping @Sendable (String) -> Void, onStop: @escaping @Sendable (_ grace: Double) -> Void = { _ in }
    ) throws {
        let finished = DispatchSemaphore(value: 0)
        let startFailure = Mutex<String?>(nil)
        for index in 0..<threads {
            let thread = Thread { [self] in
                defer { finished.signal() }
                do {
                    let responder = try makeResponder(index)
                    serve(with: responder)
                } catch {
                    startFailure.withLock { $0 = "worker \(index): \(error)" }
                    stop()
                    StopSignal.raise(SIGTERM)
                }
            }
            thread.name = "fcgi-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
        log("listening on \(address) with \(threads) threads")

        let received = StopSignal.wait()
        if let failure = startFailure.withLock({ $0 }) { throw ServerError(failure) }
        log("signal \(received): stopping, waiting up to \(Int(grace)) s for requests in flight")
        onStop(grace)
        stop()
        let deadline = DispatchTime.now() + grace
        var stopped = 0
        while stopped < threads, finished.wait(timeout: deadline) == .success { stopped += 1 }
        if stopped < threads { log("\(threads - stopped) request(s) still running at the deadline; exiting") }
        close(listenFD)
        if case .unix(let path) = address { unlink(path) }
    }

    /// Stops accepting: `shutdown` on the listening socket wakes every thread blocked in accept().
    public func stop() {
        // Not FCGX_ShutdownPending(): libfcgi then fails every read, cutting off the bodies of
        // requests in flight, which are exactly the ones a graceful stop must let finish.
        stopping.store(true, ordering: .sequentiallyConsistent)
        shutdown(listenFD, Int32(SHUT_RDWR))
    }

    /// Whether a request whose body was read to the end may skip libfcgi's "lingering close"
    /// (shutdown, poll until nginx closes its end, drain, close): on a unix socket with nothing
    /// left unread, a plain `close` loses nothing and saves two syscalls and a sleeping wait per
    /// request (`detached` makes libfcgi skip the linger). With input left unread (an upload
    /// refused early, a GET whose empty body record was never read) the linger stays: it drains
    /// what nginx is still sending, so nginx reads our answer instead of a reset. TCP keeps it
    /// always.
    private var skipsLingeringClose: Bool {
        if case .unix = address { return true }
        return false
    }

    private func serve(with responder: FastCGIResponder) {
        let raw = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { raw.deallocate() }
        FCGX_InitRequest(raw, listenFD, 0)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            guard FCGX_Accept_r(raw) >= 0 else {
                if stopping.load(ordering: .sequentiallyConsistent) { break }
                usleep(10_000)  // a transient accept failure (EMFILE, ...): do not spin
                continue
            }
            responder.respond(to: FastCGIRequest(raw: raw))
            if skipsLingeringClose, FCGX_HasSeenEOF(raw.pointee.in) == EOF { raw.pointee.detached = 1 }
            FCGX_Finish_r(raw)
        }
        FCGX_Free(raw, 0)
    }
}
