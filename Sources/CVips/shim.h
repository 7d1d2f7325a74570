#ifndef ASSETDEDUP_CVIPS_SHIM_H
#define ASSETDEDUP_CVIPS_SHIM_H

#include <vips/vips.h>

/* libvips' optional arguments are C variadics (NULL-terminated name/value pairs), which Swift
   cannot call; these fix the options each caller needs. */

/* Opens the header only (pixels are decoded on demand); sequential, so a later read streams. */
static inline VipsImage *adshim_vips_open_header(const char *path) {
    return vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
}

/* vips_thumbnail: shrink-on-load, autorotate, import any ICC profile and export sRGB; only
   downsizes; fails on any decode error (a truncated or corrupt file), not just on a fatal one. */
static inline int adshim_vips_thumbnail(const char *path, VipsImage **out, int width, int height) {
    return vips_thumbnail(path, out, width, "height", height, "size", VIPS_SIZE_DOWN,
                          "fail_on", VIPS_FAIL_ON_ERROR, NULL);
}

static inline int adshim_vips_colourspace_srgb(VipsImage *in, VipsImage **out) {
    return vips_colourspace(in, out, VIPS_INTERPRETATION_sRGB, NULL);
}

static inline int adshim_vips_cast_uchar(VipsImage *in, VipsImage **out) {
    return vips_cast(in, out, VIPS_FORMAT_UCHAR, NULL);
}

/* The first three bands (R, G, B); alpha is ignored as PIL's convert("L") ignores it. */
static inline int adshim_vips_extract_rgb(VipsImage *in, VipsImage **out) {
    return vips_extract_band(in, out, 0, "n", 3, NULL);
}

/* Flattens alpha onto white, for the JPEG thumbnail only. */
static inline int adshim_vips_flatten_white(VipsImage *in, VipsImage **out) {
    VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
    int result = vips_flatten(in, out, "background", white, NULL);
    vips_area_unref(VIPS_AREA(white));
    return result;
}

static inline int adshim_vips_jpegsave_buffer(VipsImage *in, void **buffer, size_t *length, int quality) {
    return vips_jpegsave_buffer(in, buffer, length, "Q", quality, "strip", TRUE, NULL);
}

static void adshim_vips_drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    (void)domain; (void)level; (void)message; (void)data;
}

/* libvips logs a warning per failed tile of a corrupt file on stderr; the failure itself comes
   back as an error, so the warnings are dropped. */
static inline void adshim_vips_quiet_warnings(void) {
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, adshim_vips_drop_log, NULL);
}

static inline void adshim_vips_unref(VipsImage *image) {
    g_object_unref(image);
}

#endif
