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
    if let Loc::Mem(..) = l {
        // The memory write can fault, so it goes first.
        cpu.put_bits(l, BITS, sum)?;
        cpu.put_bits(sreg, BITS, dst)?;
    } else {
        // Source, then destination: XADD r, r with one register leaves the sum.
        cpu.put_bits(sreg, BITS, dst)?;
        cpu.put_bits(l, BITS, sum)?;
    }
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
        if super::code_name(code).starts_with("Set")
            && super::alu::gpr_operand_size(code) == Some(0)
        {
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

#[cfg(test)]
mod tests {
    use crate::cpu::state::{EAX, EBP, EBX, ECX, EDI, EDX, ESI};
    use crate::cpu::testutil::flag::{AF, CF, OF, PF, SF, ZF};
    use crate::cpu::testutil::{assemble, load, run16, run32, run_to_halt};
    use crate::cpu::{Cpu, CpuModel};
    use iced_x86::code_asm::*;

    fn flags(cpu: &Cpu) -> u32 {
        cpu.eflags() & (CF | PF | AF | ZF | SF | OF)
    }

    #[test]
    fn bt_family_register_operands() {
        let cpu = run32(|a| {
            a.mov(eax, 0xF0u32).unwrap();
            a.bt(eax, 4).unwrap();
            a.setc(bl).unwrap();
            a.bts(eax, 0).unwrap(); // 0xF1
            a.setc(bh).unwrap();
            a.btr(eax, 36).unwrap(); // immediate masked to 4: 0xE1
            a.setc(cl).unwrap();
            a.mov(edx, 33u32).unwrap();
            a.btc(eax, edx).unwrap(); // register offset masked to 1: 0xE3
            a.setc(ch).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0xE3);
        assert_eq!(cpu.gpr[EBX] & 0xFFFF, 0x0001);
        assert_eq!(cpu.gpr[ECX] & 0xFFFF, 0x0001);
        assert_eq!(flags(&cpu) & CF, 0);

        let cpu = run16(CpuModel::I386, |a| {
            a.mov(ax, 0x8000u32).unwrap();
            a.mov(cx, 31u32).unwrap();
            a.bt(ax, cx).unwrap(); // bit 15
            a.setc(dl).unwrap();
            a.btc(ax, 15).unwrap(); // 0, CF=1
            a.setc(dh).unwrap();
            a.mov(cx, 0x10u32).unwrap();
            a.bts(ax, cx).unwrap(); // bit 0
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 1);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0x0101);
        assert_eq!(flags(&cpu) & CF, 0);
    }

    #[test]
    fn bt_memory_offsets_16_bit_code() {
        // DS = 0x400 keeps the touched words away from the code and the IVT.
        let cpu = run16(CpuModel::I386, |a| {
            a.mov(ax, 0x400u32).unwrap();
            a.mov(ds, ax).unwrap();
            a.mov(bx, 0x2002u32).unwrap();
            a.mov(cx, 0xFFFFu32).unwrap(); // bit -1: bit 15 of the word below
            a.bts(word_ptr(bx), cx).unwrap();
            a.mov(cx, 0x7FFFu32).unwrap(); // 0x7FF words up: 0x3000, bit 15
            a.bts(word_ptr(bx), cx).unwrap();
            a.setc(dl).unwrap();
            a.mov(bx, 0xFFF0u32).unwrap();
            a.mov(cx, 0x0100u32).unwrap(); // 16 words up, wrapping to 0x0010
            a.bts(word_ptr(bx), cx).unwrap();
            a.mov(word_ptr(0x2100), 0x0002u32).unwrap();
            a.mov(bx, 0x2100u32).unwrap();
            a.btr(word_ptr(bx), 17).unwrap(); // immediate masked to bit 1, same word
            a.setc(dh).unwrap();
            // 32-bit operand and address size: -33 is bit 31 of the dword 8 bytes below.
            a.mov(dword_ptr(0x1FF8), 0xFFFF_FFFFu32).unwrap();
            a.mov(ebx, 0x2000u32).unwrap();
            a.mov(ecx, 0xFFFF_FFDFu32).unwrap();
            a.btr(dword_ptr(ebx), ecx).unwrap();
        });
        assert_eq!(cpu.mem.read_u16(0x6000), 0x8000);
        assert_eq!(cpu.mem.read_u16(0x7000), 0x8000);
        assert_eq!(cpu.mem.read_u16(0x4010), 0x0001);
        assert_eq!(cpu.mem.read_u16(0x6100), 0);
        assert_eq!(cpu.mem.read_u32(0x5FF8), 0x7FFF_FFFF);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0x0100);
        assert_eq!(flags(&cpu) & CF, CF);
    }

    #[test]
    fn bt_memory_offsets_32_bit_code() {
        let cpu = run32(|a| {
            a.mov(dword_ptr(0x2FFC), 1u32).unwrap();
            a.mov(ebx, 0x3000u32).unwrap();
            a.mov(edx, 0xFFFF_FFC0u32).unwrap(); // -64: two dwords below ebx+4, bit 0
            a.btc(dword_ptr(ebx + 4), edx).unwrap();
            a.setc(al).unwrap();
            a.bts(dword_ptr(0x3100), 35).unwrap(); // bit 3
            a.mov(dword_ptr(0x3200), 1u32).unwrap();
            a.mov(ecx, 0x1000u32).unwrap(); // 128 dwords up (0x3200), bit 0
            a.bt(dword_ptr(ebx), ecx).unwrap();
        });
        assert_eq!(cpu.mem.read_u32(0x2FFC), 0);
        assert_eq!(cpu.gpr[EAX] & 0xFF, 1);
        assert_eq!(cpu.mem.read_u32(0x3100), 8);
        assert_eq!(flags(&cpu) & CF, CF);
    }

    #[test]
    fn bsf_bsr_16_and_32() {
        let cpu = run16(CpuModel::I386, |a| {
            a.mov(bx, 0x8000u32).unwrap();
            a.bsf(ax, bx).unwrap();
            a.bsr(cx, bx).unwrap();
            a.mov(bx, 6u32).unwrap();
            a.bsf(dx, bx).unwrap();
            a.bsr(si, bx).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 15);
        assert_eq!(cpu.gpr[ECX] & 0xFFFF, 15);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 1);
        assert_eq!(cpu.gpr[ESI] & 0xFFFF, 2);
        assert_eq!(flags(&cpu) & ZF, 0);

        // A zero source sets ZF and leaves the destination.
        let cpu = run16(CpuModel::I386, |a| {
            a.mov(di, 0x1234u32).unwrap();
            a.mov(word_ptr(0x2000), 0u32).unwrap();
            a.or(bx, 1).unwrap(); // ZF=0
            a.bsr(di, word_ptr(0x2000)).unwrap();
        });
        assert_eq!(cpu.gpr[EDI] & 0xFFFF, 0x1234);
        assert_eq!(flags(&cpu) & ZF, ZF);

        let cpu = run32(|a| {
            a.mov(ebx, 0x8000_0000u32).unwrap();
            a.bsf(eax, ebx).unwrap();
            a.mov(dword_ptr(0x3000), 1u32).unwrap();
            a.bsr(ecx, dword_ptr(0x3000)).unwrap();
            a.mov(edx, 0xDEAD_BEEFu32).unwrap();
            a.mov(dword_ptr(0x3004), 0u32).unwrap();
            a.bsf(edx, dword_ptr(0x3004)).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 31);
        assert_eq!(cpu.gpr[ECX], 0);
        assert_eq!(cpu.gpr[EDX], 0xDEAD_BEEF);
        assert_eq!(flags(&cpu) & ZF, ZF);
    }

    #[test]
    fn bswap_32_and_16() {
        let cpu = run32(|a| {
            a.mov(ebx, 0x1122_3344u32).unwrap();
            a.bswap(ebx).unwrap();
            a.mov(eax, 0x1122_3344u32).unwrap();
            a.db(&[0x66, 0x0F, 0xC8]).unwrap(); // BSWAP AX
        });
        assert_eq!(cpu.gpr[EBX], 0x4433_2211);
        assert_eq!(cpu.gpr[EAX], 0x1122_0000);
    }

    #[test]
    fn setcc_all_conditions() {
        // 1 - 2: CF, SF, PF (0xFF), AF set; ZF, OF clear.
        let cpu = run32(|a| {
            a.mov(eax, 1u32).unwrap();
            a.cmp(eax, 2).unwrap();
            a.seto(byte_ptr(0x3000)).unwrap();
            a.setno(byte_ptr(0x3001)).unwrap();
            a.setb(byte_ptr(0x3002)).unwrap();
            a.setae(byte_ptr(0x3003)).unwrap();
            a.sete(byte_ptr(0x3004)).unwrap();
            a.setne(byte_ptr(0x3005)).unwrap();
            a.setbe(byte_ptr(0x3006)).unwrap();
            a.seta(byte_ptr(0x3007)).unwrap();
            a.sets(byte_ptr(0x3008)).unwrap();
            a.setns(byte_ptr(0x3009)).unwrap();
            a.setp(byte_ptr(0x300A)).unwrap();
            a.setnp(byte_ptr(0x300B)).unwrap();
            a.setl(byte_ptr(0x300C)).unwrap();
            a.setge(byte_ptr(0x300D)).unwrap();
            a.setle(byte_ptr(0x300E)).unwrap();
            a.setg(byte_ptr(0x300F)).unwrap();
        });
        let got: Vec<u8> = (0..16).map(|i| cpu.mem.read_u8(0x3000 + i)).collect();
        assert_eq!(got, [0, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);

        // 0x7FFF + 1 in 16-bit code: OF, SF, PF (0x00) set; CF, ZF clear.
        let cpu = run16(CpuModel::I386, |a| {
            a.mov(ax, 0x7FFFu32).unwrap();
            a.add(ax, 1).unwrap();
            a.mov(bx, 0x3000u32).unwrap();
            a.seto(byte_ptr(bx)).unwrap();
            a.setno(byte_ptr(bx + 1)).unwrap();
            a.setb(byte_ptr(bx + 2)).unwrap();
            a.setae(byte_ptr(bx + 3)).unwrap();
            a.sete(byte_ptr(bx + 4)).unwrap();
            a.setne(byte_ptr(bx + 5)).unwrap();
            a.setbe(byte_ptr(bx + 6)).unwrap();
            a.seta(byte_ptr(bx + 7)).unwrap();
            a.sets(byte_ptr(bx + 8)).unwrap();
            a.setns(byte_ptr(bx + 9)).unwrap();
            a.setp(byte_ptr(bx + 10)).unwrap();
            a.setnp(byte_ptr(bx + 11)).unwrap();
            a.setl(byte_ptr(bx + 12)).unwrap();
            a.setge(byte_ptr(bx + 13)).unwrap();
            a.setle(byte_ptr(bx + 14)).unwrap();
            a.setg(byte_ptr(bx + 15)).unwrap();
            a.mov(cx, 0xFFFFu32).unwrap();
            a.xor(dx, dx).unwrap(); // ZF
            a.setz(cl).unwrap();
            a.setnz(ch).unwrap();
        });
        let got: Vec<u8> = (0..16).map(|i| cpu.mem.read_u8(0x3000 + i)).collect();
        assert_eq!(got, [1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1]);
        assert_eq!(cpu.gpr[ECX] & 0xFFFF, 0x0001);
    }

    #[test]
    fn cmpxchg_8_16_32() {
        let cpu = run16(CpuModel::I486, |a| {
            a.mov(byte_ptr(0x3000), 5u32).unwrap();
            a.mov(al, 5).unwrap();
            a.mov(cl, 9).unwrap();
            a.cmpxchg(byte_ptr(0x3000), cl).unwrap(); // equal: store CL
            a.setz(dl).unwrap();
        });
        assert_eq!(cpu.mem.read_u8(0x3000), 9);
        assert_eq!(cpu.gpr[EAX] & 0xFF, 5);
        assert_eq!(cpu.gpr[EDX] & 0xFF, 1);

        // Not equal: the accumulator takes the destination; flags as CMP 1, 2.
        let cpu = run16(CpuModel::I486, |a| {
            a.mov(ax, 1u32).unwrap();
            a.mov(bx, 2u32).unwrap();
            a.mov(cx, 7u32).unwrap();
            a.cmpxchg(bx, cx).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 2);
        assert_eq!(cpu.gpr[EBX] & 0xFFFF, 2);
        assert_eq!(flags(&cpu), CF | SF | PF | AF);

        let cpu = run32(|a| {
            a.mov(dword_ptr(0x3000), 0x1234_5678u32).unwrap();
            a.mov(eax, 0x1234_5679u32).unwrap();
            a.mov(ecx, 0xAAAA_AAAAu32).unwrap();
            a.cmpxchg(dword_ptr(0x3000), ecx).unwrap(); // not equal
            a.mov(esi, eax).unwrap();
            a.cmpxchg(dword_ptr(0x3000), ecx).unwrap(); // now equal
            a.mov(edi, 3u32).unwrap();
            a.mov(eax, edi).unwrap();
            a.cmpxchg(eax, ecx).unwrap(); // EAX with itself: always equal
        });
        assert_eq!(cpu.gpr[ESI], 0x1234_5678);
        assert_eq!(cpu.mem.read_u32(0x3000), 0xAAAA_AAAA);
        assert_eq!(cpu.gpr[EAX], 0xAAAA_AAAA);
        assert_eq!(flags(&cpu), ZF | PF);
    }

    #[test]
    fn xadd_8_16_32() {
        let cpu = run16(CpuModel::I486, |a| {
            a.mov(al, 0xFF).unwrap();
            a.mov(bl, 1).unwrap();
            a.xadd(bl, al).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFF, 1);
        assert_eq!(cpu.gpr[EBX] & 0xFF, 0);
        assert_eq!(flags(&cpu), CF | ZF | AF | PF);

        let cpu = run16(CpuModel::I486, |a| {
            a.mov(word_ptr(0x3000), 0x7FFFu32).unwrap();
            a.mov(cx, 1u32).unwrap();
            a.xadd(word_ptr(0x3000), cx).unwrap();
        });
        assert_eq!(cpu.mem.read_u16(0x3000), 0x8000);
        assert_eq!(cpu.gpr[ECX] & 0xFFFF, 0x7FFF);
        assert_eq!(flags(&cpu), OF | SF | AF | PF);

        // With one register as both operands the sum is what remains.
        let cpu = run32(|a| {
            a.mov(eax, 5u32).unwrap();
            a.xadd(eax, eax).unwrap();
            a.mov(dword_ptr(0x3000), 0xFFFF_FFFFu32).unwrap();
            a.mov(ebp, 2u32).unwrap();
            a.xadd(dword_ptr(0x3000), ebp).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 10);
        assert_eq!(cpu.mem.read_u32(0x3000), 1);
        assert_eq!(cpu.gpr[EBP], 0xFFFF_FFFF);
        assert_eq!(flags(&cpu) & (CF | ZF), CF);
    }

    #[test]
    fn cmpxchg8b_not_equal_loads_and_keeps_other_flags() {
        let cpu = run32(|a| {
            a.mov(dword_ptr(0x3100), 0x1111_1111u32).unwrap();
            a.mov(dword_ptr(0x3104), 0x2222_2222u32).unwrap();
            a.xor(eax, eax).unwrap();
            a.xor(edx, edx).unwrap();
            a.stc().unwrap();
            a.cmpxchg8b(qword_ptr(0x3100)).unwrap();
        });
        assert_eq!((cpu.gpr[EAX], cpu.gpr[EDX]), (0x1111_1111, 0x2222_2222));
        assert_eq!(cpu.mem.read_u32(0x3100), 0x1111_1111);
        assert_eq!(cpu.mem.read_u32(0x3104), 0x2222_2222);
        // ZF cleared; CF and PF from before are kept.
        assert_eq!(flags(&cpu), CF | PF);
    }

    #[test]
    fn cmpxchg8b_register_form_is_invalid() {
        // 0F C7 C8 (mod=11) raises #UD; vector 6 points at a HLT at 0000:2000.
        let code = assemble(32, |a| a.db(&[0x0F, 0xC7, 0xC8]).unwrap());
        let mut cpu = load(CpuModel::P6, 32, &code);
        cpu.mem.write_u16(6 * 4, 0x2000);
        cpu.mem.write_u16(6 * 4 + 2, 0);
        cpu.mem.write_u8(0x2000, 0xF4);
        run_to_halt(&mut cpu);
        assert_eq!(cpu.eip, 0x2001);
        assert_eq!(cpu.mem.read_u16(cpu.sp()), 0x1000);
    }
}
