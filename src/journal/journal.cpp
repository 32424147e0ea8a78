// The journal part; see docs/ARCHITECTURE.md.
namespace palyra::journal {}
