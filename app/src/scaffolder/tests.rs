//! Tests of the template forms against real-world parameter shapes (fixtures in `testdata/`).
