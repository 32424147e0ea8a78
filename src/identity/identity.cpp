// The identity part; see docs/ARCHITECTURE.md.
namespace palyra::identity {}
