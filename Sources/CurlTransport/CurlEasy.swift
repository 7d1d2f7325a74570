import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// One libcurl easy handle and everything it points at, owned by one thread for one transfer.
///
/// "You must never share the same handle in multiple threads" (libcurl-thread(3)), so a handle
/// is made per request and never stored in a shared value. curl keeps pointers to the error
/// buffer, header list, MIME tree, upload file, request body and response sink until cleanup, so
/// this class owns them all and `deinit` frees them after `curl_easy_cleanup`, in that order.
/// The setters take Swift values only: no caller outside this target sees a C type.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let response: ResponseBuffer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var mime: OpaquePointer?
    private var uploadFile: UnsafeMutablePointer<FILE>?
    private var body: RequestBody?

    /// A fresh handle with the settings every transfer here wants: no signals (the only safe
    /// choice with threads), no redirects (a redirect could carry our secret headers to another
    /// host), http and https only, and a bounded response buffer (`maxResponseBytes`).
    public init(maxResponseBytes: Int = 1 << 20) throws {
        let global = CurlGlobal.initialised
        guard global == CURLE_OK else { throw CurlError(global) }
        guard let handle = curl_easy_init() else { throw CurlError(CURLE_FAILED_INIT) }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        response = ResponseBuffer(limit: maxResponseBytes)
        try check(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_USERAGENT, "assetdedup/1")
        let context = Unmanaged.passUnretained(response).toOpaque()
        try check(
            ccurl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, context in
                let total = size * count
                guard let buffer, let context else { return total }
                let response = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
                return response.append(UnsafeRawBufferPointer(start: buffer, count: total)) ? total : 0
            })
        try check(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        try check(
            ccurl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { buffer, size, count, context in
                let total = size * count
                guard let buffer, let context else { return total }
                let response = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
                response.headerLine(UnsafeRawBufferPointer(start: buffer, count: total))
                return total
            })
        try check(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
    }

    deinit {
        curl_easy_cleanup(handle)
        if let mime { curl_mime_free(mime) }
        curl_slist_free_all(headerList)
        if let uploadFile { fclose(uploadFile) }
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(ccurl_setopt_long(handle, option, value))
    }

    func set(_ option: CURLoption, _ value: String) throws {
        try check(ccurl_setopt_string(handle, option, value))
    }

    /// The URL to fetch: `http://` or `https://` (other schemes are refused by the handle).
    public func setURL(_ url: String) throws {
        try set(CURLOPT_URL, url)
    }

    /// A request method other than GET (the default) or what a body setter implies: `HEAD` asks
    /// for no body (`CURLOPT_NOBODY`, so curl does not wait for one); any other verb
    /// (`DELETE`, `POST`, `PUT`) replaces the method word, the body coming from the body setters.
    public func setMethod(_ method: String) throws {
        if method == "HEAD" {
            try set(CURLOPT_NOBODY, 1)
        } else if method != "GET" {
            try set(CURLOPT_CUSTOMREQUEST, method)
        }
    }

    /// Time allowed to connect (DNS, TCP and TLS), in seconds; at least 1 ms.
    public func setConnectTimeout(seconds: Double) throws {
        try set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(seconds * 1000)))
    }

    /// Time allowed for the whole transfer, in seconds; at least 1 ms.
    public func setTimeout(seconds: Double) throws {
        try set(CURLOPT_TIMEOUT_MS, max(1, Int(seconds * 1000)))
    }

    /// Gives up (a timeout, `isTransient`) when fewer than `bytesPerSecond` move for `seconds` in a
    /// row: bounds a stalled peer without capping how long a large, healthy transfer may take.
    public func setLowSpeedLimit(bytesPerSecond: Int, seconds: Int) throws {
        try set(CURLOPT_LOW_SPEED_LIMIT, max(1, bytesPerSecond))
        try set(CURLOPT_LOW_SPEED_TIME, max(1, seconds))
    }

    /// Caps the upload rate (bytes per second, averaged by curl over the transfer), so a bulk
    /// upload leaves room on a shared link (`assetdedup-upload --limit-rate`).
    public func setMaxSendSpeed(bytesPerSecond: Int64) throws {
        try check(ccurl_setopt_off_t(handle, CURLOPT_MAX_SEND_SPEED_LARGE, curl_off_t(max(1, bytesPerSecond))))
    }

    /// Replaces the request headers (`Name: value` lines; `Name:` alone removes a curl default).
    public func setHeaders(_ lines: [String]) throws {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let next = curl_slist_append(list, line) else {
                curl_slist_free_all(list)
                throw CurlError(CURLE_OUT_OF_MEMORY)
            }
            list = next
        }
        curl_slist_free_all(headerList)
        headerList = list
        try check(ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list)))
    }

    /// A `multipart/form-data` POST: small text fields, then the file part, which curl reads
    /// from disk while sending (never whole in memory).
    public func setMultipart(
        fields: [(name: String, value: String)], fileField: String, path: String, filename: String, contentType: String
    ) throws {
        guard let mime = curl_mime_init(handle) else { throw CurlError(CURLE_OUT_OF_MEMORY) }
        self.mime = mime
        for field in fields {
            guard let part = curl_mime_addpart(mime) else { throw CurlError(CURLE_OUT_OF_MEMORY) }
            try check(curl_mime_name(part, field.name))
            try check(curl_mime_data(part, field.value, field.value.utf8.count))
        }
        guard let part = curl_mime_addpart(mime) else { throw CurlError(CURLE_OUT_OF_MEMORY) }
        try check(curl_mime_name(part, fileField))
        try check(curl_mime_filedata(part, path))
        try check(curl_mime_filename(part, filename))
        try check(curl_mime_type(part, contentType))
        try check(ccurl_setopt_pointer(handle, CURLOPT_MIMEPOST, UnsafeMutableRawPointer(mime)))
    }

    /// A `PUT` whose body is the file, read by curl's default `fread` callback as it sends.
    public func setUploadFile(path: String, size: Int64) throws {
        guard let file = fopen(path, "rb") else {
            throw CurlError(CURLE_READ_ERROR, message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        uploadFile = file
        try set(CURLOPT_UPLOAD, 1)
        try check(ccurl_setopt_pointer(handle, CURLOPT_READDATA, UnsafeMutableRawPointer(file)))
        try check(ccurl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(size)))
    }

    /// The request body from memory, sent with a `Content-Length` (a `PUT` unless `setMethod`
    /// names another verb, e.g. `POST`). The bytes are copied once and read by curl as it sends.
    public func setBody(_ bytes: [UInt8]) throws {
        try setBody(RequestBody(bytes: bytes))
    }

    /// The request body is `length` bytes of the file at `path` from `offset` (a `PUT` unless
    /// `setMethod` says otherwise); read with `pread` as curl sends, so never whole in memory.
    public func setBody(file path: String, offset: Int64, length: Int64) throws {
        try setBody(RequestBody(path: path, offset: offset, length: length))
    }

    private func setBody(_ body: RequestBody) throws {
        self.body = body
        try set(CURLOPT_UPLOAD, 1)
        try check(
            ccurl_setopt_data_callback(handle, CURLOPT_READFUNCTION) { buffer, size, count, context in
                guard let buffer, let context else { return 0 }
                let body = Unmanaged<RequestBody>.fromOpaque(context).takeUnretainedValue()
                return body.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
            })
        try check(ccurl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(body).toOpaque()))
        try check(ccurl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(body.length)))
    }

    /// Writes a 2xx answer's body to `fd` as it arrives (never buffered whole); any other
    /// answer's body (an error document) still goes to `responseBody`. The caller owns `fd`.
    /// `observe` sees each chunk once it is written (to hash the body without reading it back).
    public func streamResponseBody(
        toFileDescriptor fd: Int32, observe: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) {
        response.file = fd
        response.observer = observe
    }

    /// Runs the transfer on the calling thread, blocking until it ends or times out.
    public func perform() throws {
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            if code == CURLE_WRITE_ERROR && response.overflowed {
                throw CurlError(code, message: "the answer is larger than \(response.limit) bytes")
            }
            if code == CURLE_WRITE_ERROR, let failure = response.fileError {
                throw CurlError(code, message: "cannot write the answer: \(String(cString: strerror(failure)))")
            }
            if code == CURLE_ABORTED_BY_CALLBACK || code == CURLE_READ_ERROR, let failure = body?.failure {
                throw CurlError(CURLE_READ_ERROR, message: failure)
            }
            let detail = String(cString: errorBuffer)
            throw CurlError(code, message: detail.isEmpty ? nil : detail)
        }
    }

    /// The last answer's HTTP status (0 when none arrived).
    public var responseCode: Int {
        var code = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// `Retry-After` in seconds (curl parses both the seconds and the date form), if sent.
    public var retryAfter: Double? {
        var seconds: curl_off_t = 0
        guard ccurl_getinfo_off_t(handle, CURLINFO_RETRY_AFTER, &seconds) == CURLE_OK, seconds > 0 else { return nil }
        return Double(seconds)
    }

    /// The answer body held in memory (all of it, or a non-2xx one when streaming to a file).
    public var responseBody: [UInt8] { response.bytes }

    /// Bytes of a 2xx body written to the file descriptor given to `streamResponseBody`.
    public var bytesStreamed: Int64 { response.bytesWritten }

    /// The final answer's headers in order, names as sent (an interim `100 Continue` is dropped).
    public var responseHeaders: [(name: String, value: String)] { response.headers }

    /// The first value of the header `name` (case-insensitive), if the final answer had it.
    public func responseHeader(_ name: String) -> String? {
        let wanted = name.lowercased()
        return response.headers.first { $0.name.lowercased() == wanted }?.value
    }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw CurlError(code) }
    }
}

/// libcurl's process-wide setup, run once before the first handle (Swift runs a static
/// initialiser exactly once, whichever thread gets there first).
enum CurlGlobal {
    static let initialised: CURLcode = ccurl_global_init()
}
