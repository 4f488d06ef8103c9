//! Register and plane logic: write modes with latches, set/reset, read modes, chain-4,
//! odd/even, the DAC ports and dispi.

use super::*;

/// Planar graphics at A0000 (mode 12h-like memory settings).
fn planar() -> Vga {
    let mut v = Vga::new();
    v.seq[2] = 0x0F;
    v.seq[4] = 0x06;
    v.gc[5] = 0x00;
    v.gc[6] = 0x05;
    v.gc[8] = 0xFF;
    v
}

fn planes_at(v: &Vga, off: usize) -> [u8; 4] {
    [0, 1, 2, 3].map(|p| v.plane(p, off))
}

#[test]
fn write_mode_0_set_reset_and_bit_mask() {
    let mut v = planar();
    v.mem_write(0xA0000, 0xAA);
    assert_eq!(planes_at(&v, 0), [0xAA; 4]);
    // Set/reset colour 5 enabled on all planes, bit mask 0x0F keeps the latched high bits.
    v.gc[0] = 0x05;
    v.gc[1] = 0x0F;
    v.gc[8] = 0x0F;
    v.mem_read(0xA0000); // load latches
    v.mem_write(0xA0000, 0x00);
    assert_eq!(planes_at(&v, 0), [0xAF, 0xA0, 0xAF, 0xA0]);
}

#[test]
fn write_mode_0_rotate_and_logical_functions() {
    let mut v = planar();
    v.mem_write(0xA0001, 0xF0);
    v.mem_read(0xA0001);
    v.gc[3] = 0x18 | 4; // XOR, rotate right 4
    v.mem_write(0xA0001, 0xFF);
    assert_eq!(planes_at(&v, 1), [0x0F; 4]);
    v.mem_read(0xA0001);
    v.gc[3] = 0x08; // AND
    v.mem_write(0xA0001, 0x3C);
    assert_eq!(planes_at(&v, 1), [0x0C; 4]);
}

#[test]
fn write_mode_1_copies_latches() {
    let mut v = planar();
    v.seq[2] = 0x01;
    v.mem_write(0xA0010, 0x11);
    v.seq[2] = 0x0F;
    v.mem_read(0xA0010);
    v.gc[5] = 0x01;
    v.mem_write(0xA0020, 0x99);
    assert_eq!(planes_at(&v, 0x20), [0x11, 0, 0, 0]);
}

#[test]
fn write_mode_2_and_3() {
    let mut v = planar();
    v.gc[5] = 0x02;
    v.gc[8] = 0x80;
    v.mem_read(0xA0000);
    v.mem_write(0xA0000, 0x09); // colour 9 in the leftmost pixel
    assert_eq!(planes_at(&v, 0), [0x80, 0, 0, 0x80]);
    v.gc[5] = 0x03;
    v.gc[8] = 0xFF;
    v.gc[0] = 0x06;
    v.mem_read(0xA0000);
    v.mem_write(0xA0000, 0x30); // mask 0x30 gets colour 6
    assert_eq!(planes_at(&v, 0), [0x80, 0x30, 0x30, 0x80]);
}

#[test]
fn read_mode_1_colour_compare() {
    let mut v = planar();
    v.gc[5] = 0x02;
    for (i, colour) in [3u8, 5, 3, 0, 3, 7, 3, 15].iter().enumerate() {
        v.gc[8] = 0x80 >> i;
        v.mem_read(0xA0000);
        v.mem_write(0xA0000, *colour);
    }
    v.gc[5] = 0x08;
    v.gc[2] = 3;
    v.gc[7] = 0x0F;
    assert_eq!(v.mem_read(0xA0000), 0b1010_1010);
    v.gc[7] = 0x03; // ignore planes 2 and 3: 7 and 15 match too
    assert_eq!(v.mem_read(0xA0000), 0b1010_1111);
    v.gc[5] = 0x00;
    v.gc[4] = 1; // plane 1 holds bit 1 of each colour
    assert_eq!(v.mem_read(0xA0000), 0b1010_1111);
}

#[test]
fn chain4_maps_bytes_to_planes() {
    let mut v = planar();
    v.seq[4] = 0x0E;
    v.gc[5] = 0x40;
    for i in 0..8u32 {
        v.mem_write(0xA0000 + i, i as u8 + 1);
    }
    // As on the hardware: plane a & 3 at offset a & !3 (not a >> 2, QEMU's layout).
    assert_eq!(planes_at(&v, 0), [1, 2, 3, 4]);
    assert_eq!(planes_at(&v, 1), [0; 4]);
    assert_eq!(planes_at(&v, 4), [5, 6, 7, 8]);
    assert_eq!(v.mem_read(0xA0005), 6);
    // A chained read loads the latches from the four planes at that offset.
    v.seq[4] = 0x06;
    v.gc[5] = 0x41; // write mode 1: latches
    v.mem_write(0xA0010, 0);
    assert_eq!(planes_at(&v, 0x10), [5, 6, 7, 8]);
    // Unchained, the planes are addressed linearly: offset 4 is CPU address A0004.
    v.gc[5] = 0x40;
    v.gc[4] = 2;
    assert_eq!(v.mem_read(0xA0004), 7);
    assert_eq!(v.mem_read(0xA0001), 0);
}

/// A 4x2 256-colour screen: mode 13h's doubleword addressing, or mode X's byte mode.
fn tiny_256(v: &mut Vga, dword: bool) {
    v.attr[0x10] = 0x41;
    v.gc[5] = 0x40;
    v.crtc[0x01] = 0; // one character clock: 4 pixels
    v.crtc[0x07] = 0;
    v.crtc[0x09] = 0;
    v.crtc[0x12] = 1; // two lines
    v.crtc[0x13] = if dword { 1 } else { 2 };
    v.crtc[0x14] = if dword { 0x40 } else { 0 };
    v.crtc[0x17] = if dword { 0xA3 } else { 0xE3 };
    for i in 0..256 {
        v.set_dac(i as u8, [i as u8 & 0x3F, 0, 0]);
    }
}

#[test]
fn doubleword_and_byte_mode_256_colour_fetches() {
    let mut v = planar();
    v.seq[4] = 0x0E;
    tiny_256(&mut v, true);
    for i in 0..8u32 {
        v.mem_write(0xA0000 + i, 10 + i as u8);
    }
    let mut f = crate::frontend::Frame::default();
    v.render(&mut f);
    assert_eq!((f.width, f.height), (4, 2));
    let red = |p: u32| (p >> 18) as u8; // 8-bit red >> 2: the DAC value
                                        // Doubleword mode: line 0 is chained bytes 0-3; line 1 starts 2 counter units on,
                                        // plane offset 8, which holds chained bytes 8-11 (not written).
    let got: Vec<u8> = f.pixels.iter().map(|&p| red(p)).collect();
    assert_eq!(got, [10, 11, 12, 13, 0, 0, 0, 0]);
    // Byte mode reads the planes at linear offsets: offset 0 then offset 4 (line offset 4).
    tiny_256(&mut v, false);
    v.render(&mut f);
    let got: Vec<u8> = f.pixels.iter().map(|&p| red(p)).collect();
    assert_eq!(got, [10, 11, 12, 13, 14, 15, 16, 17]);
}

#[test]
fn odd_even_text_mapping() {
    let mut v = Vga::new(); // power-on: text mapping at B8000
    v.mem_write(0xB8000, b'A');
    v.mem_write(0xB8001, 0x1F);
    v.mem_write(0xB8002, b'B');
    assert_eq!(v.plane(0, 0), b'A');
    assert_eq!(v.plane(1, 0), 0x1F);
    assert_eq!(v.plane(0, 2), b'B');
    assert_eq!(v.mem_read(0xB8001), 0x1F);
    assert_eq!(v.mem_read(0xB8002), b'B');
    assert_eq!(v.mem_read(0xA0000), 0xFF, "outside the B8000 window");
}

#[test]
fn dac_ports_auto_increment() {
    let mut v = Vga::new();
    v.write_port(0x3C8, 5, 0);
    for c in [1, 2, 3, 4, 0x7F, 6] {
        v.write_port(0x3C9, c, 0);
    }
    assert_eq!(&v.dac[15..21], &[1, 2, 3, 4, 0x3F, 6]);
    v.write_port(0x3C7, 6, 0);
    assert_eq!(v.read_port(0x3C7, 0), 3);
    assert_eq!([0, 0, 0].map(|_| v.read_port(0x3C9, 0)), [4, 0x3F, 6]);
}

#[test]
fn attribute_flip_flop_resets_on_status_read() {
    let mut v = Vga::new();
    v.write_port(0x3C0, 0x01, 0);
    v.read_port(0x3DA, 0);
    v.write_port(0x3C0, 0x02, 0);
    v.write_port(0x3C0, 0x2A, 0);
    assert_eq!(v.attr[2], 0x2A);
    assert_eq!(v.attr[1], 0);
}

#[test]
fn retrace_comes_at_the_frame_rate() {
    let v = Vga::new(); // misc 0x67: 400 lines, 70 Hz
    let step = 10_000u64;
    let starts: Vec<u64> = (1..40_000_000 / step)
        .map(|i| i * step)
        .filter(|&t| v.input_status1(t) & 8 != 0 && v.input_status1(t - step) & 8 == 0)
        .collect();
    assert!(starts.len() >= 2);
    let period = starts[1] - starts[0];
    assert!((14_200_000..14_400_000).contains(&period), "{period}");
}

#[test]
fn dispi_enable_with_lfb() {
    let mut v = Vga::new();
    v.write_port16(0x1CE, vbe::INDEX_ID, 0);
    assert_eq!(v.read_port16(0x1CF, 0), 0xB0C5);
    for (i, val) in [
        (vbe::INDEX_XRES, 4),
        (vbe::INDEX_YRES, 2),
        (vbe::INDEX_BPP, 32),
    ] {
        v.write_vbe(i, val);
    }
    v.write_vbe(vbe::INDEX_ENABLE, vbe::ENABLED | vbe::LFB_ENABLED);
    v.mem_write(LFB_BASE + 4, 0x56);
    v.mem_write(LFB_BASE + 5, 0x34);
    v.mem_write(LFB_BASE + 6, 0x12);
    let mut f = crate::frontend::Frame::default();
    v.render(&mut f);
    assert_eq!((f.width, f.height), (4, 2));
    assert_eq!(f.pixels[1], 0x123456);
    // The bank window at A0000 shows the same memory.
    assert_eq!(v.mem_read(0xA0004), 0x56);
}
