import CFastCGI

/// One accepted FastCGI request: its params and a streamed body. Valid only while the
/// responder runs: the server finishes (and reuses) the underlying request afterwards.
public struct FastCGIRequest {
    let raw: UnsafeMutablePointer<FCGX_Request>

    /// A CGI param (`REQUEST_METHOD`, `REQUEST_URI`, `HTTP_AUTHORIZATION`, ...), if nginx sent it.
    public func param(_ name: String) -> String? {
        FCGX_GetParam(name, raw.pointee.envp).map { String(cString: $0) }
    }

    /// Reads up to `buffer.count` body bytes; returns 0 at the end of the body. Throws when
    /// the stream broke (the client or nginx went away mid-body).
    public func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let asked = Int32(min(buffer.count, Int(Int32.max)))
        let count = FCGX_GetStr(base.assumingMemoryBound(to: CChar.self), asked, raw.pointee.in)
        let error = FCGX_GetError(raw.pointee.in)
        if error != 0 { throw ServerError("request body stream failed (error \(error))") }
        return Int(max(count, 0))
    }

    /// Writes response bytes; false when the connection is gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return true }
            return FCGX_PutStr(base.assumingMemoryBound(to: CChar.self), Int32(raw.count), self.raw.pointee.out)
                == Int32(raw.count)
        }
    }
}
