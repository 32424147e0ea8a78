// The runtime part; see docs/ARCHITECTURE.md.
namespace palyra::runtime {}
