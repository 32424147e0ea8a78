// The transport part; see docs/ARCHITECTURE.md.
namespace palyra::transport {}
