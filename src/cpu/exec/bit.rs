//! Bit instructions: BT/BTS/BTR/BTC, BSF/BSR, BSWAP, SETcc, and the atomic-style
//! read-modify-write group CMPXCHG, XADD, CMPXCHG8B.

use iced_x86::{Code, Mnemonic, OpKind};

use super::operand::{reg_index, Loc};
use super::{set, set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::flags::{FlagOp, MASK16, MASK32, MASK8};
use crate::cpu::state::{Flags, EAX, EBX, ECX, EDX};
use crate::cpu::Cpu;

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    Test,
    Set,
    Reset,
    Complement,
}

/// BT family. With a register bit offset and a memory operand the offset is signed and
/// selects a word/dword anywhere relative to the operand's address.
fn bt<const BITS: u32>(cpu: &mut Cpu, op: &Op, kind: BitOp) -> Exec {
    let reg_offset = op.op1_kind() == OpKind::Register;
    let raw = if reg_offset {
        let r = reg_index(op.op1_register());
        if BITS == 16 {
            cpu.reg16(r) as i16 as i32
        } else {
            cpu.gpr[r] as i32
        }
    } else {
        op.immediate8() as i32
    };
    let bit = (raw as u32) & (BITS - 1);
    let l = match cpu.loc(op, 0) {
        Loc::Mem(s, o) if reg_offset => {
            // Arithmetic shift keeps the sign: negative offsets address lower units.
            let unit = raw >> if BITS == 16 { 4 } else { 5 };
            let delta = unit.wrapping_mul((BITS / 8) as i32) as u32;
            let off = o.wrapping_add(delta);
            Loc::Mem(s, if op.addr32 { off } else { off & 0xFFFF })
        }
        l => l,
    };
    let v = if BITS == 16 {
        cpu.get16(l)? as u32
    } else {
        cpu.get32(l)?
    };
    let was = (v >> bit) & 1;
    let nv = match kind {
        BitOp::Test => v,
        BitOp::Set => v | 1 << bit,
        BitOp::Reset => v & !(1 << bit),
        BitOp::Complement => v ^ (1 << bit),
    };
    if kind != BitOp::Test {
        if BITS == 16 {
            cpu.put16(l, nv as u16)?;
        } else {
            cpu.put32(l, nv)?;
        }
    }
    cpu.set_status_flags(Flags::CF.bits(), was);
    Ok(())
}

/// BSF/BSR: ZF=1 and the destination unchanged when the source is zero.
fn bit_scan<const BITS: u32, const REVERSE: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = if BITS == 16 {
        cpu.op16(op, 1)? as u32
    } else {
        cpu.op32(op, 1)?
    };
    if v == 0 {
        cpu.set_status_flags(Flags::ZF.bits(), Flags::ZF.bits());
        return Ok(());
    }
    let idx = if REVERSE {
        31 - v.leading_zeros()
    } else {
        v.trailing_zeros()
    };
    let r = reg_index(op.op0_register());
    if BITS == 16 {
        cpu.set_reg16(r, idx as u16);
    } else {
        cpu.gpr[r] = idx;
    }
    cpu.set_status_flags(Flags::ZF.bits(), 0);
    Ok(())
}

fn bswap32(cpu: &mut Cpu, op: &Op) -> Exec {
    let r = reg_index(op.op0_register());
    cpu.gpr[r] = cpu.gpr[r].swap_bytes();
    Ok(())
}

/// BSWAP r16 is undefined; current CPUs clear the low word.
fn bswap16(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.set_reg16(reg_index(op.op0_register()), 0);
    Ok(())
}

fn setcc(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.condition(op.condition_code() as u8 - 1) as u8;
    let l = cpu.loc(op, 0);
    cpu.put8(l, v)
}

fn mask_of(bits: u32) -> u32 {
    match bits {
        8 => MASK8,
        16 => MASK16,
        _ => MASK32,
    }
}

/// CMPXCHG r/m, r: compares the accumulator with the destination; equal → destination =
/// source, else accumulator = destination (the destination is written back either way).
fn cmpxchg<const BITS: u32>(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = mask_of(BITS);
    let l = cpu.loc(op, 0);
    let dst = cpu.get_bits(l, BITS)?;
    let src = cpu.get_bits(Loc::Reg(reg_index(op.op1_register())), BITS)?;
    let acc = cpu.gpr[EAX] & m;
    if acc == dst {
        cpu.put_bits(l, BITS, src)?;
    } else {
        cpu.put_bits(l, BITS, dst)?;
        cpu.put_bits(Loc::Reg(EAX), BITS, dst)?;
    }
    cpu.set_lazy(FlagOp::Sub, m, acc, dst, acc.wrapping_sub(dst));
    Ok(())
}

/// XADD r/m, r: source = old destination, destination = sum.
fn xadd<const BITS: u32>(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = mask_of(BITS);
    let l = cpu.loc(op, 0);
    let sreg = Loc::Reg(reg_index(op.op1_register()));
    let dst = cpu.get_bits(l, BITS)?;
    let src = cpu.get_bits(sreg, BITS)?;
    let sum = dst.wrapping_add(src) & m;
    cpu.put_bits(l, BITS, sum)?;
    cpu.put_bits(sreg, BITS, dst)?;
    cpu.set_lazy(FlagOp::Add, m, dst, src, sum);
    Ok(())
}

/// CMPXCHG8B m64: compares EDX:EAX with the operand; equal → store ECX:EBX, else load it.
fn cmpxchg8b(cpu: &mut Cpu, op: &Op) -> Exec {
    if op.op0_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    let (s, o) = cpu.mem_operand(op);
    let lo = cpu.read32(s, o)?;
    let hi = cpu.read32(s, o.wrapping_add(4))?;
    if lo == cpu.gpr[EAX] && hi == cpu.gpr[EDX] {
        let (b, c) = (cpu.gpr[EBX], cpu.gpr[ECX]);
        cpu.write32(s, o.wrapping_add(4), c)?;
        cpu.write32(s, o, b)?;
        cpu.set_status_flags(Flags::ZF.bits(), Flags::ZF.bits());
    } else {
        cpu.write32(s, o.wrapping_add(4), hi)?;
        cpu.write32(s, o, lo)?;
        cpu.gpr[EAX] = lo;
        cpu.gpr[EDX] = hi;
        cpu.set_status_flags(Flags::ZF.bits(), 0);
    }
    Ok(())
}

pub fn register(t: &mut Table) {
    macro_rules! bt_pair {
        ($kind:expr) => {{
            fn h16(cpu: &mut Cpu, op: &Op) -> Exec {
                bt::<16>(cpu, op, $kind)
            }
            fn h32(cpu: &mut Cpu, op: &Op) -> Exec {
                bt::<32>(cpu, op, $kind)
            }
            [h16 as super::Handler, h32]
        }};
    }
    let bts = [
        (Mnemonic::Bt, bt_pair!(BitOp::Test)),
        (Mnemonic::Bts, bt_pair!(BitOp::Set)),
        (Mnemonic::Btr, bt_pair!(BitOp::Reset)),
        (Mnemonic::Btc, bt_pair!(BitOp::Complement)),
    ];
    for code in Code::values() {
        let m = code.mnemonic();
        if let Some((_, hs)) = bts.iter().find(|(mn, _)| *mn == m) {
            match super::alu::gpr_operand_size(code) {
                Some(1) => set(t, code, hs[0]),
                Some(2) => set(t, code, hs[1]),
                _ => {}
            }
        }
        if format!("{code:?}").starts_with("Set") && super::alu::gpr_operand_size(code) == Some(0) {
            set(t, code, setcc);
        }
    }
    use Code::*;
    set(t, Bsf_r16_rm16, bit_scan::<16, false>);
    set(t, Bsf_r32_rm32, bit_scan::<32, false>);
    set(t, Bsr_r16_rm16, bit_scan::<16, true>);
    set(t, Bsr_r32_rm32, bit_scan::<32, true>);
    set(t, Bswap_r32, bswap32);
    set(t, Bswap_r16, bswap16);
    set(t, Cmpxchg_rm8_r8, cmpxchg::<8>);
    set(t, Cmpxchg_rm16_r16, cmpxchg::<16>);
    set(t, Cmpxchg_rm32_r32, cmpxchg::<32>);
    set(t, Xadd_rm8_r8, xadd::<8>);
    set(t, Xadd_rm16_r16, xadd::<16>);
    set(t, Xadd_rm32_r32, xadd::<32>);
    set_all(t, &[Cmpxchg8b_m64], cmpxchg8b);
}
