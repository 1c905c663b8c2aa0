//! Compatibility tests against fixtures recorded from the real Backstage scaffolder.
