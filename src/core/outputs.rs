//! Outputs the executor allocates when `run`'s caller omits them: laid out
//! like the pipeline's first input buffer (Halide's metadata says nothing
//! about an output's size, so the input's is the only guide).

use crate::core::error::{Error, Result};
use crate::core::layout::BufferShape;

/// Extents, strides and mins (x first, in elements) of an allocated output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputShape {
    pub shape: Vec<i32>,
    pub strides: Vec<i32>,
    pub mins: Vec<i32>,
}

/// The shape of output `name` (`dimensions`-D, elements named `elem`) when
/// the caller omits it, from `first_input` (the first input buffer in call
/// order, its name and checked shape):
/// - the same number of dimensions: the input's extents and mins, dense in
///   the input's order of strides (an interleaved RGBA input, channel
///   fastest, gives an interleaved output; a planar one a planar output);
/// - none (a 0-D output, such as a sum): a single element;
/// - any other number, or no input buffer: an error naming the output
///   (the metadata does not say how a histogram's bins or a gray output
///   of a color input relate to the input, and a guess that is too small
///   is not an error to Halide: it computes only what it is given).
pub fn allocated_output(
    name: &str,
    dimensions: usize,
    elem: &str,
    first_input: Option<(&str, &BufferShape)>,
) -> Result<OutputShape> {
    let missing = format!("missing output buffer ({elem} {dimensions}-dimensional)");
    let (input, like) = first_input.ok_or_else(|| {
        Error::bad_arg(
            name,
            format!("{missing}: the executor allocates an omitted output like the pipeline's first input buffer, and it has none; pass {{ data, shape }}"),
        )
    })?;
    let n = like.dims.len();
    if dimensions != n && dimensions != 0 {
        return Err(Error::bad_arg(
            name,
            format!("{missing}: the executor allocates an omitted output like the first input '{input}', which is {n}-dimensional; pass {{ data, shape }}"),
        ));
    }
    let dims = &like.dims[..dimensions];
    let shape: Vec<i32> = dims.iter().map(|d| d.extent).collect();
    let mins: Vec<i32> = dims.iter().map(|d| d.min).collect();
    // Dense, in the order of the input's strides (ties: x first).
    let mut order: Vec<usize> = (0..dimensions).collect();
    order.sort_by_key(|&i| (dims[i].stride, i));
    let mut strides = vec![0i32; dimensions];
    let mut s: i64 = 1;
    for &i in &order {
        strides[i] = i32::try_from(s)
            .map_err(|_| Error::bad_arg(name, "the output would have more than 2^31 elements"))?;
        s = s.saturating_mul(shape[i] as i64);
    }
    if s > i32::MAX as i64 {
        return Err(Error::bad_arg(
            name,
            "the output would have more than 2^31 elements",
        ));
    }
    Ok(OutputShape {
        shape,
        strides,
        mins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::ElemKind;

    fn shape(extents: &[f64], strides: Option<&[f64]>, mins: Option<&[f64]>) -> BufferShape {
        let len = 1 << 20;
        BufferShape::from_parts(
            "in",
            ElemKind::U8,
            extents.len(),
            extents,
            strides,
            mins,
            len,
        )
        .unwrap()
    }

    #[test]
    fn same_dimensions_copy_extents_mins_and_stride_order() {
        let planar = shape(&[5.0, 3.0, 4.0], None, Some(&[1.0, -2.0, 0.0]));
        let o = allocated_output("out", 3, "uint8", Some(("in", &planar))).unwrap();
        assert_eq!(o.shape, vec![5, 3, 4]);
        assert_eq!(o.strides, vec![1, 5, 15]);
        assert_eq!(o.mins, vec![1, -2, 0]);
        let interleaved = shape(&[5.0, 3.0, 4.0], Some(&[4.0, 20.0, 1.0]), None);
        let o = allocated_output("out", 3, "uint8", Some(("in", &interleaved))).unwrap();
        assert_eq!(o.shape, vec![5, 3, 4]);
        assert_eq!(o.strides, vec![4, 20, 1]);
        // A padded input gives a dense output.
        let padded = shape(&[5.0, 3.0], Some(&[1.0, 8.0]), None);
        let o = allocated_output("out", 2, "uint8", Some(("in", &padded))).unwrap();
        assert_eq!(o.strides, vec![1, 5]);
        // Three channels stay three.
        let rgb = shape(&[2.0, 2.0, 3.0], Some(&[3.0, 6.0, 1.0]), None);
        let o = allocated_output("out", 3, "uint8", Some(("in", &rgb))).unwrap();
        assert_eq!((o.shape, o.strides), (vec![2, 2, 3], vec![3, 6, 1]));
    }

    #[test]
    fn a_zero_dimensional_output_is_one_element() {
        let rgb = shape(
            &[5.0, 3.0, 3.0],
            Some(&[3.0, 15.0, 1.0]),
            Some(&[2.0, 0.0, 0.0]),
        );
        let o = allocated_output("total", 0, "int32", Some(("in", &rgb))).unwrap();
        assert!(o.shape.is_empty() && o.strides.is_empty() && o.mins.is_empty());
        let e = allocated_output("gray", 2, "float32", Some(("in", &rgb))).unwrap_err();
        assert!(
            e.to_string()
                .contains("like the first input 'in', which is 3-dimensional"),
            "{e}"
        );
    }

    #[test]
    fn what_cannot_be_decided_is_an_error_naming_the_output() {
        let gray = shape(&[5.0, 3.0], None, None);
        let e = allocated_output("out", 3, "uint8", Some(("in", &gray))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "argument 'out': missing output buffer (uint8 3-dimensional): the executor allocates an omitted output like the first input 'in', which is 2-dimensional; pass { data, shape }"
        );
        let e = allocated_output("out", 1, "int32", None).unwrap_err();
        assert!(e.to_string().contains("argument 'out': missing output buffer (int32 1-dimensional): the executor allocates an omitted output like the pipeline's first input buffer, and it has none"), "{e}");
        let big = shape(&[65536.0, 65536.0], Some(&[0.0, 0.0]), None);
        assert!(allocated_output("out", 2, "uint8", Some(("in", &big))).is_err());
    }
}
