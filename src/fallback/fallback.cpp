// The fallback part; see docs/ARCHITECTURE.md.
namespace palyra::fallback {}
