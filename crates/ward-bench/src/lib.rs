//! Synthetic hospital traffic: a seeded generator writing realistic pcap files.
