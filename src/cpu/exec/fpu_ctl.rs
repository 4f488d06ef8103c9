//! x87 control instructions: FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW, FNSTENV/FLDENV,
//! FNSAVE/FRSTOR (and their waiting forms, whose wait the dispatcher already did), and the
//! 8087/287 leftovers FNENI/FNDISI/FNSETPM, which the 387 and later ignore.

use iced_x86::{Code, Mnemonic};

use super::Op;
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::fpu::env::Layout;
use crate::cpu::state::Flags;
use crate::cpu::Cpu;

pub fn exec(cpu: &mut Cpu, op: &Op) -> Exec {
    use Mnemonic as M;
    match op.mnemonic() {
        M::Fninit | M::Finit => {
            cpu.fpu.init();
            Ok(())
        }
        M::Fnclex | M::Fclex => {
            cpu.fpu.sw &= !0x80FF;
            Ok(())
        }
        M::Fldcw => {
            let (s, o) = cpu.mem_operand(op);
            let v = cpu.read16(s, o)?;
            cpu.fpu.cw = (v & !0xE0C0) | 0x40;
            cpu.fpu.update_es();
            Ok(())
        }
        M::Fnstcw | M::Fstcw => {
            let (s, o) = cpu.mem_operand(op);
            cpu.write16(s, o, cpu.fpu.cw)
        }
        M::Fnstsw | M::Fstsw => {
            let sw = cpu.fpu.sw;
            if op.code() == Code::Fnstsw_AX || op.code() == Code::Fstsw_AX {
                cpu.set_reg16(0, sw);
                Ok(())
            } else {
                let (s, o) = cpu.mem_operand(op);
                cpu.write16(s, o, sw)
            }
        }
        M::Fnstenv | M::Fstenv => {
            let l = layout(cpu, op);
            let img = cpu.fpu.env_image(l);
            write_image(cpu, op, &img)?;
            // FSTENV masks every exception once the environment is stored.
            cpu.fpu.cw |= 0x3F;
            cpu.fpu.update_es();
            Ok(())
        }
        M::Fldenv => {
            let l = layout(cpu, op);
            let img = read_image(cpu, op, l.env_len())?;
            cpu.fpu.load_env(&img, l);
            Ok(())
        }
        M::Fnsave | M::Fsave => {
            let l = layout(cpu, op);
            let img = cpu.fpu.save_image(l);
            write_image(cpu, op, &img)?;
            cpu.fpu.init();
            Ok(())
        }
        M::Frstor => {
            let l = layout(cpu, op);
            let img = read_image(cpu, op, l.env_len() + 80)?;
            cpu.fpu.load_save_image(&img, l);
            Ok(())
        }
        // The 8087's interrupt enable/disable and the 287's protected-mode switch: no-ops.
        M::Fneni | M::Feni | M::Fndisi | M::Fdisi | M::Fnsetpm | M::Fsetpm => Ok(()),
        _ => Err(Exception::invalid_opcode()),
    }
}

/// The environment layout for the operand size and mode.
fn layout(cpu: &Cpu, op: &Op) -> Layout {
    use Code as C;
    let size32 = matches!(
        op.code(),
        C::Fnstenv_m28byte
            | C::Fstenv_m28byte
            | C::Fldenv_m28byte
            | C::Fnsave_m108byte
            | C::Fsave_m108byte
            | C::Frstor_m108byte
    );
    let real = !cpu.protected_mode() || cpu.eflags & Flags::VM.bits() != 0;
    Layout { size32, real }
}

fn write_image(cpu: &mut Cpu, op: &Op, img: &[u8]) -> Exec {
    let (s, o) = cpu.mem_operand(op);
    cpu.probe_write(s, o, img.len() as u32)?;
    for (k, b) in img.iter().enumerate() {
        cpu.write8(s, o.wrapping_add(k as u32), *b)?;
    }
    Ok(())
}

fn read_image(cpu: &mut Cpu, op: &Op, len: usize) -> Result<Vec<u8>, Exception> {
    let (s, o) = cpu.mem_operand(op);
    let mut v = Vec::with_capacity(len);
    for k in 0..len {
        v.push(cpu.read8(s, o.wrapping_add(k as u32))?);
    }
    Ok(v)
}
