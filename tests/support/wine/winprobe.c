/*
 * What xcap 0.9 asks of a window before listing it (xcap/src/windows/
 * impl_window.rs is_valid_window, utils.rs get_window_bounds), and what
 * its capture calls, on Notepad: evidence for docs/platforms.md
 * ("Windows under Wine"). Not built by CI:
 *   x86_64-w64-mingw32-gcc -o winprobe.exe winprobe.c -luser32 -lgdi32 -ldwmapi
 *   wine notepad & wine winprobe.exe
 */
#include <windows.h>
#include <dwmapi.h>
#include <stdio.h>

int main(void)
{
    HWND w = FindWindowW(NULL, L"Untitled - Notepad");
    printf("FindWindowW(\"Untitled - Notepad\") -> %p, visible %d\n", (void *)w, w ? IsWindowVisible(w) : 0);
    if (!w) return 1;
    RECT r = {0};
    HRESULT hr = DwmGetWindowAttribute(w, DWMWA_EXTENDED_FRAME_BOUNDS, &r, sizeof r);
    printf("DwmGetWindowAttribute(DWMWA_EXTENDED_FRAME_BOUNDS) -> 0x%08lx\n", (unsigned long)hr);
    DWORD cloaked = 0;
    hr = DwmGetWindowAttribute(w, DWMWA_CLOAKED, &cloaked, sizeof cloaked);
    printf("DwmGetWindowAttribute(DWMWA_CLOAKED) -> 0x%08lx\n", (unsigned long)hr);
    BOOL ok = GetWindowRect(w, &r);
    printf("GetWindowRect -> %d: %ld,%ld %ldx%ld\n", ok, r.left, r.top, r.right - r.left, r.bottom - r.top);
    HDC wdc = GetWindowDC(w), mem = CreateCompatibleDC(wdc);
    HBITMAP bmp = CreateCompatibleBitmap(wdc, r.right - r.left, r.bottom - r.top);
    SelectObject(mem, bmp);
    printf("PrintWindow(PW_RENDERFULLCONTENT) -> %d\n", PrintWindow(w, mem, 2));
    return 0;
}
