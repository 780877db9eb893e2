/*
 * The GDI calls xcap 0.9 makes to capture a screen (xcap/src/windows/gdi.rs
 * capture_monitor, impl_monitor.rs get_dev_mode_w), one by one, printing
 * each result: evidence for docs/platforms.md ("Windows under Wine"). Not
 * built by CI:
 *   x86_64-w64-mingw32-gcc -o gdiprobe.exe gdiprobe.c -lgdi32 -luser32
 *   DISPLAY=:N wine gdiprobe.exe        # and once with DISPLAY unset
 */
#include <windows.h>
#include <stdio.h>

static void probe(const char *what, HDC src, int x, int y, int w, int h)
{
    HDC mem = CreateCompatibleDC(src);
    HBITMAP bmp = CreateCompatibleBitmap(src, w, h);
    HGDIOBJ old = SelectObject(mem, bmp);
    SetLastError(0);
    BOOL ok = BitBlt(mem, 0, 0, w, h, src, x, y, SRCCOPY);
    DWORD err = GetLastError();
    BITMAPINFO bi = {0};
    bi.bmiHeader.biSize = sizeof bi.bmiHeader;
    bi.bmiHeader.biWidth = w;
    bi.bmiHeader.biHeight = -h;
    bi.bmiHeader.biPlanes = 1;
    bi.bmiHeader.biBitCount = 32;
    static unsigned char buf[4096 * 4096 * 4];
    int lines = GetDIBits(mem, bmp, 0, h, buf, &bi, DIB_RGB_COLORS);
    unsigned long sum = 0;
    for (int i = 0; i < w * h * 4 && lines > 0; i++) sum += buf[i];
    printf("%s: src dc %p, mem dc %p, bitmap %p, select %p; BitBlt -> %d (GetLastError %lu); GetDIBits -> %d lines, byte sum %lu\n",
           what, (void *)src, (void *)mem, (void *)bmp, (void *)old, ok, err, lines, sum);
    SelectObject(mem, old);
    DeleteObject(bmp);
    DeleteDC(mem);
}

static BOOL CALLBACK monitor(HMONITOR m, HDC dc, LPRECT r, LPARAM p)
{
    MONITORINFOEXW mi = {0};
    mi.cbSize = sizeof mi;
    BOOL ok = GetMonitorInfoW(m, (MONITORINFO *)&mi);
    printf("monitor %p: GetMonitorInfoW -> %d, %ls, rect %ld,%ld %ldx%ld\n", (void *)m, ok, mi.szDevice,
           mi.rcMonitor.left, mi.rcMonitor.top, mi.rcMonitor.right - mi.rcMonitor.left,
           mi.rcMonitor.bottom - mi.rcMonitor.top);
    /* xcap's get_dev_mode_w: every x(), y(), width(), height() goes through it. */
    DEVMODEW dm = {0};
    dm.dmSize = sizeof dm;
    SetLastError(0);
    BOOL got = EnumDisplaySettingsW(mi.szDevice, ENUM_CURRENT_SETTINGS, &dm);
    DWORD err = GetLastError();
    printf("  EnumDisplaySettingsW(%ls, ENUM_CURRENT_SETTINGS) -> %d (GetLastError %lu): position %ld,%ld, %lux%lu, fields 0x%lx\n",
           mi.szDevice, got, err, dm.dmPosition.x, dm.dmPosition.y, dm.dmPelsWidth, dm.dmPelsHeight, dm.dmFields);
    return TRUE;
}

int main(void)
{
    EnumDisplayMonitors(NULL, NULL, monitor, 0);
    int w = GetSystemMetrics(SM_CXSCREEN), h = GetSystemMetrics(SM_CYSCREEN);
    printf("screen %dx%d\n", w, h);
    HWND desktop = GetDesktopWindow();
    HDC wdc = GetWindowDC(desktop);
    printf("GetDesktopWindow %p, GetWindowDC -> %p\n", (void *)desktop, (void *)wdc);
    probe("xcap's way: GetWindowDC(GetDesktopWindow())", wdc, 0, 0, w, h);
    ReleaseDC(desktop, wdc);
    HDC sdc = GetDC(NULL);
    probe("screen DC: GetDC(NULL)", sdc, 0, 0, w, h);
    ReleaseDC(NULL, sdc);
    HDC cdc = CreateDCW(L"DISPLAY", NULL, NULL, NULL);
    probe("CreateDCW(\"DISPLAY\")", cdc, 0, 0, w, h);
    DeleteDC(cdc);
    return 0;
}
