/// Where the FastCGI app listens: a unix socket (default, ~1.8x faster than TCP loopback)
/// or a loopback TCP port.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    /// Parses `unix:/path`, `/path`, or `HOST:PORT` (the host must be given: libfcgi would
    /// listen on every interface for a bare `:PORT`).
    public init(parsing text: String) throws {
        if text.hasPrefix("unix:") {
            self = .unix(path: String(text.dropFirst(5)))
        } else if text.hasPrefix("/") || text.hasPrefix(".") {
            self = .unix(path: text)
        } else if let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon != text.startIndex
        {
            self = .tcp(host: String(text[..<colon]), port: port)
        } else {
            throw ServerError("listen address must be unix:/path or HOST:PORT, got '\(text)'")
        }
    }

    /// The form `FCGX_OpenSocket` takes.
    var libfcgiPath: String {
        switch self {
        case .unix(let path): path
        case .tcp(let host, let port): "\(host):\(port)"
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "\(host):\(port)"
        }
    }
}

/// A server start-up or shutdown failure, with a one-line reason.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
