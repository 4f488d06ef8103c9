//! `--trace FILE`: one line per executed instruction (instruction count, CS:EIP,
//! disassembly, general registers and flags), written while the CPU steps one
//! instruction at a time. Tracing is slow by design; the normal run loop never checks it.

use std::io::Write;

use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};

use crate::cpu::{Cpu, Seg};

thread_local! {
    // iced's formatter is not Send; one per thread keeps the machine movable to the
    // emulation thread.
    static FORMATTER: std::cell::RefCell<IntelFormatter> = std::cell::RefCell::new(IntelFormatter::new());
}

pub struct Tracer {
    out: std::io::BufWriter<std::fs::File>,
    text: String,
}

impl Tracer {
    pub fn create(path: &std::path::Path) -> std::io::Result<Tracer> {
        Ok(Tracer {
            out: std::io::BufWriter::new(std::fs::File::create(path)?),
            text: String::new(),
        })
    }

    /// Writes the line for the instruction CS:EIP is about to execute.
    pub fn record(&mut self, cpu: &mut Cpu) -> std::io::Result<()> {
        let cs = cpu.seg[Seg::Cs as usize];
        let mut bytes = [0u8; 15];
        let mut avail = 0;
        for (i, b) in bytes.iter_mut().enumerate() {
            match cpu.peek_code_byte(cs.base.wrapping_add(cpu.eip.wrapping_add(i as u32))) {
                Some(v) => *b = v,
                None => break,
            }
            avail = i + 1;
        }
        let bitness = if cs.is_32() { 32 } else { 16 };
        let mut decoder = Decoder::with_ip(
            bitness,
            &bytes[..avail],
            cpu.eip as u64,
            DecoderOptions::NONE,
        );
        let instr = decoder.decode();
        self.text.clear();
        if instr.is_invalid() {
            self.text.push_str("(invalid or unreadable)");
        } else {
            FORMATTER.with(|f| f.borrow_mut().format(&instr, &mut self.text));
        }
        let g = &cpu.gpr;
        writeln!(
            self.out,
            "{:>10} {:04x}:{:08x} {:<40} eax={:08x} ebx={:08x} ecx={:08x} edx={:08x} esi={:08x} edi={:08x} ebp={:08x} esp={:08x} fl={:08x}",
            cpu.icount, cs.selector, cpu.eip, self.text, g[0], g[3], g[1], g[2], g[6], g[7], g[5], g[4], cpu.eflags()
        )
    }
}
