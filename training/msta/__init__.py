"""MSTA (Multi-modal Spatio-Temporal Adapters) on a frozen video-language backbone: model, training, export."""
