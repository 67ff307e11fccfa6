"""Demo sessions: a whole breakout with simulated people, on each platform's sandbox."""
