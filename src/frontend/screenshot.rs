//! PNG screenshots of a rendered frame (and reading them back, for tests that compare).

use std::path::Path;

use super::Frame;
use crate::{Error, Result};

/// Writes `frame` as an 8-bit RGB PNG.
pub fn save_png(frame: &Frame, path: &Path) -> Result<()> {
    if frame.width == 0 || frame.height == 0 {
        return Err(Error::Usage(format!(
            "{}: nothing on screen to save",
            path.display()
        )));
    }
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), frame.width, frame.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let rgb: Vec<u8> = frame
        .pixels
        .iter()
        .flat_map(|p| [(p >> 16) as u8, (p >> 8) as u8, *p as u8])
        .collect();
    let io = |e: png::EncodingError| Error::format(path, e.to_string());
    let mut w = enc.write_header().map_err(io)?;
    w.write_image_data(&rgb).map_err(io)?;
    w.finish().map_err(io)
}

/// Reads an 8-bit RGB or RGBA PNG into a frame.
pub fn load_png(path: &Path) -> Result<Frame> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let dec = png::Decoder::new(std::io::BufReader::new(file));
    let bad = |e: png::DecodingError| Error::format(path, e.to_string());
    let mut reader = dec.read_info().map_err(bad)?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf).map_err(bad)?;
    let step = match (info.color_type, info.bit_depth) {
        (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
        (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
        _ => return Err(Error::format(path, "expected an 8-bit RGB(A) PNG")),
    };
    let pixels = buf[..info.buffer_size()]
        .chunks(step)
        .map(|c| (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32)
        .collect();
    Ok(Frame {
        width: info.width,
        height: info.height,
        pixels,
    })
}
