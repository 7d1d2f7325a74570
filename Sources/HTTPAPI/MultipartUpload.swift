import AssetDedupCore
import BlobProtocols

/// Streams a `multipart/form-data` body: small text fields into memory (capped), the `file`
/// part through a `HashingFileWriter` (hashed while written, never held in memory).
///
/// `MultipartFramer` does the framing; its callbacks only append bytes, and all checks and I/O
/// happen between `execute` calls, where errors can be thrown.
final class MultipartUpload {
    /// The uploaded file part, written and hashed, not yet committed.
    struct FilePart {
        let writer: HashingFileWriter
        let filename: String?
        let contentType: String?
    }

    private enum Sink {
        case none
        /// A text field; its bytes collect in `fieldBytes` (not in the enum: appending to an
        /// array held in an enum payload copied the whole array on every chunk).
        case field(name: String)
        case file
    }

    private let parser: MultipartFramer
    private let blobs: any BlobStorage
    /// The body's length when known, passed on to a bucket sending the file while it arrives.
    private let sizeHint: Int64?
    private let maxFieldBytes = 4096
    /// Everything that is not file content (part headers, fields, boundaries, preamble and
    /// epilogue) is bounded too, so a body of endless headers or parts is refused early
    /// instead of growing in memory.
    static let maxOverheadBytes: Int64 = 1 << 20
    private var fieldBytes: [UInt8] = []
    private var partHeaders: [(String, String)] = []
    private var sink: Sink = .none
    private var staging: [UInt8] = []
    private var problem: APIError?

    private(set) var fields: [String: String] = [:]
    private(set) var file: FilePart?
    private var fileComplete = false
    private var writer: HashingFileWriter?
    private var fileName: String?
    private var fileType: String?

    /// The boundary parameter of a `multipart/form-data` content type, if it is one.
    static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() where part.lowercased().hasPrefix("boundary=") {
            var value = String(part.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.count) ? value : nil
        }
        return nil
    }

    init(boundary: String, blobs: any BlobStorage, sizeHint: Int64? = nil) {
        self.parser = MultipartFramer(boundary: boundary)
        self.blobs = blobs
        self.sizeHint = sizeHint
        staging.reserveCapacity(Self.flushSize)
        // unowned(unsafe): the parser is owned by this object and only runs inside `consume`, so
        // `self` outlives every callback; plain `unowned` costs a refcount check per chunk.
        parser.onHeader = { [unowned(unsafe) self] name, value in partHeaders.append((name, value)) }
        parser.onBody = { [unowned(unsafe) self] buffer in
            if case .file = sink {
                staging.append(contentsOf: buffer)
                return
            }
            switch sink {
            case .none: startPart()
            default: break
            }
            switch sink {
            case .file: staging.append(contentsOf: buffer)
            case .field(let name):
                if fieldBytes.count + buffer.count > maxFieldBytes {
                    if problem == nil { problem = .badRequest("invalid_field", "form field '\(name)' is too long") }
                } else {
                    fieldBytes.append(contentsOf: buffer)
                }
            case .none: break
            }
        }
        parser.onPartComplete = { [unowned(unsafe) self] in
            if case .none = sink { startPart() }
            finishPart()
        }
    }

    static let flushSize = 1 << 20

    /// Reads the whole body (at most `maxBytes`), calling `onField` as each text field ends
    /// so the caller can reject early (say, an unknown provider) before the file streams in.
    func consume(_ body: any RequestBody, maxBytes: Int64, onField: (String, String) throws -> Void) throws {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
        defer { chunk.deallocate() }
        var total: Int64 = 0
        var reportedFields = 0
        while true {
            let count: Int
            do {
                count = try body.read(into: chunk)
            } catch {
                throw APIError.badRequest("incomplete_body", "the upload ended before the file was complete")
            }
            if count == 0 { break }
            total += Int64(count)
            if total > maxBytes { throw APIError.tooLarge("uploads are limited to \(maxBytes) bytes") }
            do {
                try parser.execute(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
            } catch {
                throw APIError.badRequest("invalid_multipart", "the multipart body is malformed")
            }
            if let problem { throw problem }
            if total - (writer?.size ?? 0) - Int64(staging.count) > Self.maxOverheadBytes {
                throw APIError.badRequest(
                    "invalid_multipart", "the form's headers and fields exceed \(Self.maxOverheadBytes) bytes")
            }
            if staging.count >= Self.flushSize { try flush() }
            let ordered = fieldOrder
            while reportedFields < ordered.count {
                let name = ordered[reportedFields]
                try onField(name, fields[name] ?? "")
                reportedFields += 1
            }
        }
        try flush()
        if writer != nil && !fileComplete {
            throw APIError.badRequest("incomplete_body", "the upload ended before the file was complete")
        }
    }

    private var fieldOrder: [String] = []

    private func startPart() {
        let disposition = partHeaders.first { $0.0.lowercased() == "content-disposition" }?.1 ?? ""
        let params = Self.dispositionParameters(disposition)
        let name = params["name"] ?? ""
        if name == "file" {
            guard writer == nil else {
                problem = .badRequest("invalid_multipart", "only one file part is allowed")
                sink = .field(name: "")
                return
            }
            do {
                // A `sha256` field before the file lets a bucket start storing it under that key now.
                if let announced = fields["sha256"].flatMap({ try? SHA256Digest(parsing: $0) }) {
                    writer = try blobs.makeTempWriter(announced: announced, sizeHint: sizeHint)
                } else {
                    writer = try blobs.makeTempWriter()
                }
            } catch is BlobStorageUnavailable {
                problem = .storageUnavailable
            } catch {
                problem = (error as? FileError)?.isNoSpace == true ? .noSpace : .internalError
            }
            fileName = params["filename"]
            fileType = partHeaders.first { $0.0.lowercased() == "content-type" }?.1
            sink = .file
        } else {
            fieldBytes.removeAll(keepingCapacity: true)
            sink = .field(name: name)
        }
    }

    private func finishPart() {
        switch sink {
        case .file:
            fileComplete = true
            do { try flush() } catch { problem = (error as? APIError) ?? .internalError }
            if let writer { file = FilePart(writer: writer, filename: fileName, contentType: fileType) }
        case .field(let name):
            if fieldBytes.count > maxFieldBytes {
                problem = .badRequest("invalid_field", "form field '\(name)' is too long")
            } else if !name.isEmpty {
                fields[name] = String(decoding: fieldBytes, as: UTF8.self)
                fieldOrder.append(name)
            }
        case .none: break
        }
        sink = .none
        partHeaders = []
    }

    private func flush() throws {
        guard !staging.isEmpty, let writer else { return }
        do {
            try writer.write(staging)
        } catch let error as FileError where error.isNoSpace {
            throw APIError.noSpace
        }
        staging.removeAll(keepingCapacity: true)
    }

    /// `form-data; name="file"; filename="a b.png"` -> ["name": "file", "filename": "a b.png"].
    static func dispositionParameters(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(header)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop { $0 == " " || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let char = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(char); escaped = false }
                    else if char == "\\" { escaped = true }
                    else if char == "\"" { break }
                    else { value.append(char) }
                }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result[key] = value
        }
        return result
    }
}
