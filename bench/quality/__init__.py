"""Quality studies: how well themes hold up (stress sets, discovery, the token budget's effect on vectors)."""
