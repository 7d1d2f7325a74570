#ifndef ASSETDEDUP_CFFMPEG_SHIM_H
#define ASSETDEDUP_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/time.h>

/* Error macros Swift does not import (FFERRTAG and negated errno). */
static const int ADSHIM_AVERROR_EOF = AVERROR_EOF;
static const int ADSHIM_AVERROR_EAGAIN = AVERROR(EAGAIN);
static const int ADSHIM_AVERROR_EXIT = AVERROR_EXIT;
static const int64_t ADSHIM_AV_NOPTS_VALUE = AV_NOPTS_VALUE;
static const int ADSHIM_AV_TIME_BASE = AV_TIME_BASE;

/* av_err2str uses a compound literal; this writes into the caller's buffer instead. */
static inline void adshim_av_strerror(int code, char *buffer, size_t size) {
    av_strerror(code, buffer, size);
}

/* The interrupt callback: libavformat polls it during blocking I/O and gives up (AVERROR_EXIT)
   once it returns 1. `opaque` points at a deadline in av_gettime_relative() microseconds, owned
   by the caller for the context's lifetime. */
static int adshim_deadline_passed(void *opaque) {
    const int64_t *deadline = (const int64_t *)opaque;
    return av_gettime_relative() > *deadline ? 1 : 0;
}

static inline void adshim_set_deadline_callback(AVFormatContext *context, int64_t *deadline) {
    context->interrupt_callback.callback = adshim_deadline_passed;
    context->interrupt_callback.opaque = deadline;
}

/* Scales a decoded frame into one 8-bit plane (`out`, `stride` bytes a row); AVFrame's data
   and linesize are fixed-size C arrays, which Swift sees as tuples. */
static inline int adshim_scale_frame(struct SwsContext *scaler, const AVFrame *frame, uint8_t *out, int stride) {
    uint8_t *planes[4] = { out, NULL, NULL, NULL };
    int strides[4] = { stride, 0, 0, 0 };
    return sws_scale(scaler, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, planes, strides);
}

#endif
