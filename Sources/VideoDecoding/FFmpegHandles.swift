import CFFmpeg

/// FFmpeg's message for an error code.
func ffmpegMessage(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 128)
    adshim_av_strerror(code, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Owns an opened input (`avformat_close_input` frees it) and the deadline its interrupt
/// callback reads, which must outlive the context.
final class FormatInput {
    let context: UnsafeMutablePointer<AVFormatContext>
    private let deadline: UnsafeMutablePointer<Int64>

    /// Opens `path` with only the file protocol, the `formats` demuxers and the `decoders`, probing at most
    /// `probeBytes` and `analyzeMicroseconds`; every blocking read gives up after `deadline`.
    init(
        path: String, formats: String, decoders: String, probeBytes: Int64, analyzeMicroseconds: Int64, deadline: Int64
    ) throws(VideoDecodingError) {
        let deadlinePointer = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        deadlinePointer.initialize(to: deadline)
        guard let allocated = avformat_alloc_context() else {
            deadlinePointer.deallocate()
            throw VideoDecodingError(.unreadable, "avformat_alloc_context failed")
        }
        adshim_set_deadline_callback(allocated, deadlinePointer)
        allocated.pointee.probesize = probeBytes
        allocated.pointee.max_analyze_duration = analyzeMicroseconds
        var options: OpaquePointer?
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        av_dict_set(&options, "format_whitelist", formats, 0)
        av_dict_set(&options, "codec_whitelist", decoders, 0)
        var context: UnsafeMutablePointer<AVFormatContext>? = allocated
        // On failure avformat_open_input frees the context and sets it to NULL.
        let opened = avformat_open_input(&context, path, nil, &options)
        av_dict_free(&options)
        guard opened == 0, let context else {
            deadlinePointer.deallocate()
            throw VideoDecodingError(
                opened == ADSHIM_AVERROR_EXIT ? .timedOut : .unreadable, "open: \(ffmpegMessage(opened))")
        }
        self.context = context
        self.deadline = deadlinePointer
    }

    deinit {
        var context: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&context)
        deadline.deallocate()
    }
}

/// Owns a decoder context (`avcodec_free_context`).
final class DecoderContext {
    let context: UnsafeMutablePointer<AVCodecContext>

    init(stream: UnsafeMutablePointer<AVStream>, codec: UnsafePointer<AVCodec>) throws(VideoDecodingError) {
        guard let allocated = avcodec_alloc_context3(codec) else {
            throw VideoDecodingError(.corrupt, "avcodec_alloc_context3 failed")
        }
        var owned: UnsafeMutablePointer<AVCodecContext>? = allocated
        var result = avcodec_parameters_to_context(allocated, stream.pointee.codecpar)
        if result >= 0 {
            // One thread a decode: concurrency comes from the FastCGI workers.
            allocated.pointee.thread_count = 1
            result = avcodec_open2(allocated, codec, nil)
        }
        guard result >= 0 else {
            avcodec_free_context(&owned)
            throw VideoDecodingError(.corrupt, "opening the decoder: \(ffmpegMessage(result))")
        }
        context = allocated
    }

    deinit {
        var owned: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&owned)
    }
}

/// Owns one `AVPacket` and two `AVFrame`s: `received` for `avcodec_receive_frame` (which
/// unrefs it first, so it is empty after the end of stream) and `kept`, the latest frame moved
/// out of it (the `_free` functions take their address).
final class DecodeBuffers {
    let packet: UnsafeMutablePointer<AVPacket>
    let received: UnsafeMutablePointer<AVFrame>
    let kept: UnsafeMutablePointer<AVFrame>

    init() throws(VideoDecodingError) {
        var packet: UnsafeMutablePointer<AVPacket>? = av_packet_alloc()
        var received: UnsafeMutablePointer<AVFrame>? = av_frame_alloc()
        var kept: UnsafeMutablePointer<AVFrame>? = av_frame_alloc()
        guard let p = packet, let r = received, let k = kept else {
            av_packet_free(&packet)
            av_frame_free(&received)
            av_frame_free(&kept)
            throw VideoDecodingError(.corrupt, "allocating a packet or frame failed")
        }
        self.packet = p
        self.received = r
        self.kept = k
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&packet)
        var received: UnsafeMutablePointer<AVFrame>? = received
        av_frame_free(&received)
        var kept: UnsafeMutablePointer<AVFrame>? = kept
        av_frame_free(&kept)
    }
}

/// Owns a swscale context, replaced when the input frame's size or format changes.
final class GrayScaler {
    private var context: OpaquePointer?

    deinit { sws_freeContext(context) }

    /// `frame` area-averaged to `side` x `side` 8-bit gray (full-range luma).
    func scale(_ frame: UnsafeMutablePointer<AVFrame>, side: Int) throws(VideoDecodingError) -> GrayFrame {
        let f = frame.pointee
        context = sws_getCachedContext(
            context, f.width, f.height, AVPixelFormat(rawValue: f.format), Int32(side), Int32(side),
            AV_PIX_FMT_GRAY8, SWS_AREA, nil, nil, nil)
        guard let context else {
            throw VideoDecodingError(.corrupt, "cannot scale a \(f.width)x\(f.height) frame of format \(f.format)")
        }
        var pixels = [UInt8](repeating: 0, count: side * side)
        let rows = pixels.withUnsafeMutableBufferPointer {
            adshim_scale_frame(context, frame, $0.baseAddress, Int32(side))
        }
        guard rows == side else { throw VideoDecodingError(.corrupt, "scaling gave \(rows) rows, not \(side)") }
        return GrayFrame(pixels: pixels, width: side, height: side)
    }
}
