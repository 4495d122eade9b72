//! placeholder
use wasm_bindgen::prelude::*;
#[wasm_bindgen]
pub struct TwilioFlex {}
