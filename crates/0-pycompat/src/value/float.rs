//! `repr(float)`: ryu's shortest round-trip digits in CPython's layout.

use std::fmt::Write as _;

/// Python's `repr(float)` (and `str(float)`), byte for byte as CPython 3.11
/// prints it.
///
/// The digits are the shortest that read back as `f` (the `ryu` crate, which
/// picks the same digits as CPython's `_Py_dg_dtoa` in mode 0: the shortest
/// string, and of those the nearest to `f`). The layout is CPython's
/// `float_repr_style = 'short'`: an exponent when the decimal exponent is
/// below -4 or at least 16 (`1e-05`, `1e+16`, two exponent digits at least),
/// `.0` after an integral value (`100.0`), and `inf`, `-inf`, `nan`, `-0.0`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if f == 0.0 {
        out.push_str("0.0");
        return out;
    }
    let (digits, decpt) = shortest_digits(f.abs());
    let n = digits.len() as i32;
    if !(-4..16).contains(&(decpt - 1)) {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", e.unsigned_abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-decpt) as usize));
        out.push_str(&digits);
    } else if decpt >= n {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (decpt - n) as usize));
        out.push_str(".0");
    } else {
        let split = decpt as usize;
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    }
    out
}

/// The shortest round-trip digits of a finite `x > 0`, without leading or
/// trailing zeros, and the decimal point's position: `x = 0.DIGITS * 10^decpt`.
fn shortest_digits(x: f64) -> (String, i32) {
    let mut buffer = ryu::Buffer::new();
    // ryu lays the digits out its own way ("1e16", "0.001", "1.5e-7", "123.0");
    // read them back from that.
    let text = buffer.format_finite(x);
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int_part}{frac_part}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_matches('0').to_owned();
    let decpt = int_part.len() as i32 + exponent - leading as i32;
    (digits, decpt)
}
