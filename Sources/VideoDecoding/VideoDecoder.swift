import CFFmpeg

/// FFmpeg logs every damaged packet of a hostile upload to stderr; failures come back as codes.
/// Set once for the process (a global's initialiser runs exactly once).
private let quietLogging: Void = av_log_set_level(AV_LOG_QUIET)

/// Takes gray frames at fractions of a video's duration with FFmpeg (libavformat, libavcodec,
/// libswscale), within limits on duration, frame size, probing and wall time.
///
/// Safe to share between threads: it holds only limits; each call owns its FFmpeg contexts.
public struct VideoDecoder: Sendable {
    /// What a file may cost before it is refused.
    public struct Limits: Sendable, Equatable {
        /// The container's duration, checked before decoding (a header can claim anything).
        public var maxDurationSeconds: Double
        /// Width and height of the stream and of every decoded frame.
        public var maxSide: Int
        /// How much libavformat may read, and how much media time it may decode, to find streams.
        public var probeBytes: Int
        public var analyzeSeconds: Double
        /// Wall time for the whole file; the interrupt callback stops blocking reads after it, and
        /// the decode loop checks it between frames, so a hostile file cannot hang a worker.
        public var timeLimitSeconds: Double
        /// Frames decoded after a seek before giving up on reaching the target and taking the last.
        public var maxFramesPerSeek: Int
        /// Frames are area-averaged to this square, 8-bit gray.
        public var frameSide: Int

        public init(
            maxDurationSeconds: Double = 6 * 3600, maxSide: Int = 8192, probeBytes: Int = 5_000_000,
            analyzeSeconds: Double = 5, timeLimitSeconds: Double = 60, maxFramesPerSeek: Int = 1200,
            frameSide: Int = 32
        ) {
            self.maxDurationSeconds = maxDurationSeconds
            self.maxSide = maxSide
            self.probeBytes = probeBytes
            self.analyzeSeconds = analyzeSeconds
            self.timeLimitSeconds = timeLimitSeconds
            self.maxFramesPerSeek = maxFramesPerSeek
            self.frameSide = frameSide
        }
    }

    /// Demuxers allowed (libavformat's names): the containers phones, cameras and browsers
    /// write. Anything else (playlists, image2, raw streams) is never probed.
    public static let containers = "mov,matroska,avi,mpegts,mpeg,flv"

    /// Decoders allowed (FFmpeg's names), for stream probing too: what those containers carry
    /// from phones, cameras, browsers and editors. FFmpeg's long tail of legacy decoders is
    /// attack surface no upload needs.
    public static let decoders =
        "h264,hevc,av1,libdav1d,libaom-av1,vp8,vp9,libvpx,libvpx-vp9,mpeg4,h263,mpeg1video,mpeg2video,"
        + "mjpeg,prores,dnxhd,vc1,wmv3,theora,ffv1"

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The frame at or just after each fraction (0...1) of the duration, seeking to the keyframe
    /// before it and decoding forward (what `ffmpeg -ss T -i FILE` does), so a re-encode with
    /// other keyframes still yields the same moments.
    public func frames(fileAt path: String, at fractions: [Double]) throws(VideoDecodingError) -> VideoSample {
        _ = quietLogging
        let deadline = av_gettime_relative() + Int64(limits.timeLimitSeconds * 1_000_000)
        let input = try FormatInput(
            path: path, formats: Self.containers, decoders: Self.decoders, probeBytes: Int64(limits.probeBytes),
            analyzeMicroseconds: Int64(limits.analyzeSeconds * 1_000_000), deadline: deadline)
        let format = input.context
        let found = avformat_find_stream_info(format, nil)
        guard found >= 0 else {
            throw VideoDecodingError(
                found == ADSHIM_AVERROR_EXIT ? .timedOut : .unreadable,
                "reading stream info: \(ffmpegMessage(found))")
        }

        var codec: UnsafePointer<AVCodec>?
        let index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        guard index >= 0, let stream = format.pointee.streams[Int(index)] else {
            throw VideoDecodingError(.noVideo, "no video stream")
        }
        guard stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 else {
            throw VideoDecodingError(.noVideo, "the only video stream is a cover picture")
        }
        guard let codec else { throw VideoDecodingError(.corrupt, "no decoder for the video stream") }
        let codecName = String(cString: codec.pointee.name)
        guard Self.decoders.split(separator: ",").contains(Substring(codecName)) else {
            throw VideoDecodingError(.corrupt, "the \(codecName) decoder is not allowed")
        }
        let parameters = stream.pointee.codecpar.pointee
        guard parameters.width > 0, parameters.height > 0, parameters.width <= limits.maxSide,
            parameters.height <= limits.maxSide
        else {
            throw VideoDecodingError(
                .overLimit, "frame size \(parameters.width)x\(parameters.height) is outside 1...\(limits.maxSide)")
        }
        let timeBase = stream.pointee.time_base
        guard timeBase.num > 0, timeBase.den > 0 else { throw VideoDecodingError(.corrupt, "no time base") }
        let secondsPerTick = av_q2d(timeBase)

        let duration = durationSeconds(format, stream, secondsPerTick)
        guard let duration, duration > 0, duration.isFinite else {
            throw VideoDecodingError(.overLimit, "unknown duration")
        }
        guard duration <= limits.maxDurationSeconds else {
            throw VideoDecodingError(
                .overLimit, "duration \(Int(duration)) s is over the limit of \(Int(limits.maxDurationSeconds)) s")
        }
        // Only this stream's packets are needed.
        for i in 0..<Int(format.pointee.nb_streams) where i != Int(index) {
            format.pointee.streams[i]?.pointee.discard = AVDISCARD_ALL
        }

        let decoder = try DecoderContext(stream: stream, codec: codec)
        let buffers = try DecodeBuffers()
        let scaler = GrayScaler()
        let start = stream.pointee.start_time == ADSHIM_AV_NOPTS_VALUE ? 0 : stream.pointee.start_time
        var frames: [GrayFrame] = []
        // Packets more than a second before the target are decoded only if they are references.
        let skipWindow = Int64(1 / secondsPerTick)
        for fraction in fractions {
            let target = start + Int64((min(max(fraction, 0), 1) * duration / secondsPerTick).rounded(.down))
            let seek = avformat_seek_file(format, index, Int64.min, target, target, 0)
            guard seek >= 0 else {
                throw VideoDecodingError(
                    seek == ADSHIM_AVERROR_EXIT ? .timedOut : .corrupt,
                    "seeking to \(fraction * duration) s: \(ffmpegMessage(seek))")
            }
            avcodec_flush_buffers(decoder.context)
            var found = try decodeFrame(
                at: target, format: format, streamIndex: index, decoder: decoder.context, buffers: buffers,
                deadline: deadline, skipWindow: skipWindow)
            if !found {
                // The seek landed past the last keyframe before the target (byte-based seeking in
                // MPEG-TS, short clips): decode from the first byte instead.
                let rewind = av_seek_frame(format, -1, 0, AVSEEK_FLAG_BYTE)
                guard rewind >= 0 || avformat_seek_file(format, index, Int64.min, Int64.min, start, 0) >= 0 else {
                    throw VideoDecodingError(.corrupt, "no frame near \(fraction * duration) s and cannot rewind")
                }
                avcodec_flush_buffers(decoder.context)
                found = try decodeFrame(
                    at: target, format: format, streamIndex: index, decoder: decoder.context, buffers: buffers,
                    deadline: deadline, skipWindow: skipWindow)
            }
            guard found else { throw VideoDecodingError(.corrupt, "no frame decoded near \(fraction * duration) s") }
            frames.append(try scaler.scale(buffers.kept, side: limits.frameSide))
            av_frame_unref(buffers.kept)
        }
        return VideoSample(durationSeconds: duration, frames: frames)
    }

    /// The container's duration, else the stream's.
    private func durationSeconds(
        _ format: UnsafeMutablePointer<AVFormatContext>, _ stream: UnsafeMutablePointer<AVStream>,
        _ secondsPerTick: Double
    ) -> Double? {
        if format.pointee.duration != ADSHIM_AV_NOPTS_VALUE, format.pointee.duration > 0 {
            return Double(format.pointee.duration) / Double(ADSHIM_AV_TIME_BASE)
        }
        if stream.pointee.duration != ADSHIM_AV_NOPTS_VALUE, stream.pointee.duration > 0 {
            return Double(stream.pointee.duration) * secondsPerTick
        }
        return nil
    }

    /// Leaves in `buffers.kept` the first frame whose timestamp is at or after `target` (or
    /// the last one decoded, at the end of the stream or after `maxFramesPerSeek`); false when
    /// the stream ended before any frame.
    private func decodeFrame(
        at target: Int64, format: UnsafeMutablePointer<AVFormatContext>, streamIndex: Int32,
        decoder: UnsafeMutablePointer<AVCodecContext>, buffers: DecodeBuffers, deadline: Int64,
        skipWindow: Int64
    ) throws(VideoDecodingError) -> Bool {
        let packet = buffers.packet
        let frame = buffers.received
        var decoded = 0
        var haveFrame = false
        var draining = false
        // Packets of our stream that gave no frame; a stream of undecodable packets ends here.
        var fruitless = 0
        while true {
            if av_gettime_relative() > deadline {
                throw VideoDecodingError(.timedOut, "over the time limit of \(limits.timeLimitSeconds) s")
            }
            // Take every frame the decoder has ready.
            while true {
                let received = avcodec_receive_frame(decoder, frame)
                if received == ADSHIM_AVERROR_EAGAIN { break }
                if received == ADSHIM_AVERROR_EOF {
                    return haveFrame
                }
                guard received >= 0 else { throw VideoDecodingError(.corrupt, "decoding: \(ffmpegMessage(received))") }
                av_frame_unref(buffers.kept)
                av_frame_move_ref(buffers.kept, frame)
                let f = buffers.kept.pointee
                guard f.width > 0, f.height > 0, f.width <= limits.maxSide, f.height <= limits.maxSide else {
                    throw VideoDecodingError(.overLimit, "a decoded frame is \(f.width)x\(f.height)")
                }
                decoded += 1
                fruitless = 0
                haveFrame = true
                let pts = f.best_effort_timestamp
                if pts == ADSHIM_AV_NOPTS_VALUE || pts >= target || decoded >= limits.maxFramesPerSeek { return true }
            }
            if draining {
                return haveFrame
            }
            let read = av_read_frame(format, packet)
            if read == ADSHIM_AVERROR_EOF || (read < 0 && read != ADSHIM_AVERROR_EXIT && haveFrame) {
                // End of the file (or a truncated tail): flush the decoder for its last frames.
                draining = true
                _ = avcodec_send_packet(decoder, nil)
                continue
            }
            guard read >= 0 else {
                throw VideoDecodingError(
                    read == ADSHIM_AVERROR_EXIT ? .timedOut : .corrupt, "reading: \(ffmpegMessage(read))")
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == streamIndex else { continue }
            // Far before the target only frames others refer to are needed: skipping the rest
            // (B-frames, mostly) cuts the walk from the keyframe without changing the target frame.
            let pts = packet.pointee.pts
            let far = pts != ADSHIM_AV_NOPTS_VALUE && pts < target - skipWindow
            decoder.pointee.skip_frame = far ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
            // A damaged packet is skipped as players do; `fruitless` bounds how many.
            _ = avcodec_send_packet(decoder, packet)
            fruitless += 1
            if fruitless > limits.maxFramesPerSeek {
                throw VideoDecodingError(.corrupt, "\(fruitless) packets without a decoded frame")
            }
        }
    }
}
