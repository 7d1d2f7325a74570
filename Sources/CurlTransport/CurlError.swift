import CCurl

/// A libcurl call that failed: its `CURLcode`, curl's message, and what we were doing.
///
/// Transport failures are sorted once, here, into worth-retrying (could not connect, timed out,
/// connection dropped) or not (bad URL, unreadable file, answer too large).
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// libcurl's `CURLcode` (curl_easy_strerror(3) lists them).
    public let code: Int32
    public let message: String

    init(_ code: CURLcode, message: String? = nil) {
        self.code = Int32(bitPattern: code.rawValue)
        self.message = message ?? String(cString: curl_easy_strerror(code))
    }

    /// The network or the server let us down; the same request may work a moment later.
    public var isTransient: Bool {
        let transient: [CURLcode] = [
            CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR,
            CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2,
            CURLE_HTTP2_STREAM,
        ]
        return transient.contains { Int32(bitPattern: $0.rawValue) == code }
    }

    /// No connection could be made at all (refused, no route, no such host): the server is down
    /// or the address is wrong, so other requests to it will fail the same way.
    public var isUnreachable: Bool {
        [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST].contains { Int32(bitPattern: $0.rawValue) == code }
    }

    /// A connect or transfer timeout, or the low-speed limit tripping.
    public var isTimeout: Bool { code == Int32(bitPattern: CURLE_OPERATION_TIMEDOUT.rawValue) }

    public var description: String { "curl error \(code): \(message)" }
}
