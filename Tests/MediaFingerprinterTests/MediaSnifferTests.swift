import AssetDedupCore
import MediaFingerprinter
import Testing

/// The first bytes pick the decoder; the file name never does.
@Suite struct MediaSnifferTests {
    func kind(_ bytes: [UInt8]) -> MediaSniffer.Kind { MediaSniffer.kind(of: bytes) }
    func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func magicBytes() {
        #expect(kind([0xFF, 0xD8, 0xFF, 0xE0]) == .image("jpeg"))
        #expect(kind([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) == .image("png"))
        #expect(kind(ascii("GIF89a")) == .image("gif"))
        #expect(kind(ascii("RIFF\0\0\0\0WEBPVP8 ")) == .image("webp"))
        #expect(kind(ascii("RIFF\0\0\0\0AVI LIST")) == .video("avi"))
        #expect(kind([0, 0, 0, 0x18] + ascii("ftypheic\0\0\0\0mif1heic")) == .image("heif"))
        #expect(kind([0, 0, 0, 0x1C] + ascii("ftypavif\0\0\0\0avifmif1miaf")) == .image("heif"))
        #expect(kind([0, 0, 0, 0x20] + ascii("ftypisom\0\0\u{2}\0isomiso2avc1mp41")) == .video("mov"))
        #expect(kind([0, 0, 0, 0x14] + ascii("ftypqt  \0\0\0\0qt  ")) == .video("mov"))
        #expect(kind([0, 0, 0, 8] + ascii("wide")) == .video("mov"))
        #expect(kind([0x1A, 0x45, 0xDF, 0xA3, 0x9F]) == .video("matroska"))
        #expect(kind([0x47] + [UInt8](repeating: 0xFF, count: 187) + [0x47]) == .video("mpegts"))
        #expect(kind([0, 0, 0, 0, 0x47] + [UInt8](repeating: 0xFF, count: 191) + [0x47]) == .video("mpegts"))
    }

    @Test func everythingElseIsNeither() {
        #expect(kind([]) == .neither)
        #expect(kind([0xFF, 0xD8]) == .neither)
        #expect(kind(ascii("%PDF-1.7")) == .neither)
        #expect(kind(ascii("<svg xmlns=")) == .neither)
        #expect(kind(ascii("RIFF\0\0\0\0WAVEfmt ")) == .neither)
        // A huge ftyp size must not read past the header.
        #expect(kind([0xFF, 0xFF, 0xFF, 0xFF] + ascii("ftypmp42")) == .video("mov"))
    }
}
