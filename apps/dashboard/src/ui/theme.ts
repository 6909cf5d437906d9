import { createTheme, type PaletteMode } from '@mui/material/styles';

export function createDashboardTheme(mode: PaletteMode) {
  return createTheme({
    palette: {
      mode,
      primary: { main: mode === 'dark' ? '#8ab4f8' : '#1a56db' },
      secondary: { main: mode === 'dark' ? '#f6ad55' : '#c05621' },
      background: mode === 'dark' ? { default: '#0f1419', paper: '#161d26' } : { default: '#f5f7fb', paper: '#ffffff' },
    },
    shape: { borderRadius: 10 },
    typography: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
    components: {
      MuiButton: { defaultProps: { disableElevation: true } },
      // A visible focus ring for keyboard users on every clickable surface.
      MuiButtonBase: { styleOverrides: { root: { '&.Mui-focusVisible': { outline: '2px solid currentColor', outlineOffset: 2 } } } },
    },
  });
}

const KEY = 'meridian.theme';

export function loadThemeMode(): PaletteMode {
  const stored = window.localStorage.getItem(KEY);
  if (stored === 'dark' || stored === 'light') return stored;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function saveThemeMode(mode: PaletteMode): void {
  window.localStorage.setItem(KEY, mode);
}
