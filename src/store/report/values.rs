//! Column values kept outside SQLite in a compact tagged form: what a listed
//! citation carries through the sort and what a source's record holds, so the
//! rows of a report are assembled without asking SQLite for them again.
//!
//! Each value is a tag byte (null, integer, real, text, blob), then eight
//! little-endian bytes for a number or a four-byte length and the bytes for a
//! text or blob. Values read back borrow from the encoded bytes.

use rusqlite::types::{FromSql, FromSqlError, ValueRef};

const NULL: u8 = 0;
const INTEGER: u8 = 1;
const REAL: u8 = 2;
const TEXT: u8 = 3;
const BLOB: u8 = 4;

/// Appends `v` to `out`.
pub(super) fn put(out: &mut Vec<u8>, v: ValueRef) -> std::io::Result<()> {
    match v {
        ValueRef::Null => out.push(NULL),
        ValueRef::Integer(n) => {
            out.push(INTEGER);
            out.extend_from_slice(&n.to_le_bytes());
        }
        ValueRef::Real(x) => {
            out.push(REAL);
            out.extend_from_slice(&x.to_le_bytes());
        }
        ValueRef::Text(b) => put_bytes(out, TEXT, b)?,
        ValueRef::Blob(b) => put_bytes(out, BLOB, b)?,
    }
    Ok(())
}

/// A tagged, length-prefixed text or blob.
fn put_bytes(out: &mut Vec<u8>, tag: u8, b: &[u8]) -> std::io::Result<()> {
    let n = u32::try_from(b.len()).map_err(|_| too_long())?;
    out.push(tag);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(b);
    Ok(())
}

/// A value over 4 GiB cannot be kept.
pub(super) fn too_long() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "a report value over 4 GiB")
}

/// The `N` values encoded at the start of `bytes`, borrowed from it, and
/// the bytes after them.
#[allow(clippy::type_complexity)]
pub(super) fn read<'a, const N: usize>(
    bytes: &'a [u8],
) -> Result<([ValueRef<'a>; N], &'a [u8]), FromSqlError> {
    let bad = || FromSqlError::Other("a damaged report record".into());
    let mut out = [ValueRef::Null; N];
    let mut b: &'a [u8] = bytes;
    let mut take = |n: usize| -> Result<&'a [u8], FromSqlError> {
        let (head, rest) = b.split_at_checked(n).ok_or_else(bad)?;
        b = rest;
        Ok(head)
    };
    let word = |w: &[u8]| -> [u8; 8] {
        let mut x = [0; 8];
        x.copy_from_slice(w);
        x
    };
    for slot in out.iter_mut() {
        *slot = match take(1)?[0] {
            NULL => ValueRef::Null,
            INTEGER => ValueRef::Integer(i64::from_le_bytes(word(take(8)?))),
            REAL => ValueRef::Real(f64::from_le_bytes(word(take(8)?))),
            tag @ (TEXT | BLOB) => {
                let n = take(4)?;
                let bytes = take(u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize)?;
                if tag == TEXT {
                    ValueRef::Text(bytes)
                } else {
                    ValueRef::Blob(bytes)
                }
            }
            _ => return Err(bad()),
        };
    }
    Ok((out, b))
}

/// Converts kept value `i` of `values` as `Row::get` would; `what` names the
/// set of values in an error.
pub(super) fn get<T: FromSql>(values: &[ValueRef], i: usize, what: &str) -> rusqlite::Result<T> {
    let v = *values
        .get(i)
        .ok_or_else(|| rusqlite::Error::InvalidColumnIndex(i))?;
    T::column_result(v).map_err(|e| match e {
        FromSqlError::InvalidType => {
            rusqlite::Error::InvalidColumnType(i, format!("{what} column {i}"), v.data_type())
        }
        e => rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_written() {
        let text = "é".repeat(1000);
        let written = [
            ValueRef::Null,
            ValueRef::Integer(-7),
            ValueRef::Real(1.5),
            ValueRef::Text(text.as_bytes()),
            ValueRef::Blob(&[0, 255]),
            ValueRef::Text(b""),
        ];
        let mut out = Vec::new();
        for v in written {
            put(&mut out, v).unwrap();
        }
        let mut more = out.clone();
        more.push(9);
        let (back, rest): ([ValueRef; 6], _) = read(&more).unwrap();
        assert_eq!(back, written);
        assert_eq!(rest, [9]);
        assert_eq!(get::<Option<i64>>(&back, 0, "t").unwrap(), None);
        assert_eq!(get::<i64>(&back, 1, "t").unwrap(), -7);
        assert!(
            get::<u16>(&back, 1, "t").is_err(),
            "out of range, as Row::get says"
        );
        assert_eq!(get::<String>(&back, 3, "t").unwrap(), text);
        assert!(get::<String>(&back, 6, "t").is_err());
        assert!(read::<7>(&out).is_err(), "one value too many");
        assert!(read::<6>(&out[..out.len() - 1]).is_err(), "cut short");
    }
}
