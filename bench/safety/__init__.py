"""Safety studies: hostile or extreme input (decompression bombs, very long wrapped text) stays bounded."""
