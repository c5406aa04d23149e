// Tray and Menu: the tray keeps its image, tooltip and context menu, so a test can read the menu
// and click an item as a person would (a disabled item or a separator does nothing, as in Electron).
import type { KeyboardEvent, Menu, MenuItem, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { readFileSync } from 'node:fs';

export interface MenuReport {
  label: string;
  type: string;
  enabled: boolean;
  submenu?: MenuReport[];
}

/** One built item; Electron's MenuItem has the same fields under the same names. */
export interface BuiltItem {
  label: string;
  type: NonNullable<MenuItemConstructorOptions['type']>;
  enabled: boolean;
  submenu: MenuDouble | undefined;
  click: MenuItemConstructorOptions['click'];
}

export class MenuDouble {
  constructor(readonly items: BuiltItem[]) {}

  /** Electron's static Menu.buildFromTemplate, returning the double under Electron's type. */
  static buildFromTemplate(template: Array<MenuItemConstructorOptions | MenuItem>): Menu {
    return new MenuDouble(template.map((t) => MenuDouble.item(t as MenuItemConstructorOptions))) as unknown as Menu;
  }

  private static item(t: MenuItemConstructorOptions): BuiltItem {
    const submenu = Array.isArray(t.submenu) ? (MenuDouble.buildFromTemplate(t.submenu) as unknown as MenuDouble) : (t.submenu as unknown as MenuDouble | undefined);
    return { label: t.label ?? '', type: t.type ?? (submenu ? 'submenu' : 'normal'), enabled: t.enabled ?? true, submenu, click: t.click };
  }

  report(): MenuReport[] {
    return this.items.map((i) => ({ label: i.label, type: i.type, enabled: i.enabled, ...(i.submenu ? { submenu: i.submenu.report() } : {}) }));
  }

  /** Follows labels (each a RegExp source, anchored at the start) to an item and clicks it. */
  click(path: string[]): void {
    const [first, ...rest] = path;
    const item = this.items.find((i) => i.type !== 'separator' && new RegExp(`^(?:${first})`).test(i.label));
    if (!item) throw new Error(`no menu item matches /^${first}/ among ${JSON.stringify(this.items.map((i) => i.label))}`);
    if (rest.length) {
      if (!item.submenu) throw new Error(`"${item.label}" has no submenu`);
      return item.submenu.click(rest);
    }
    if (!item.enabled) throw new Error(`"${item.label}" is disabled: Electron would not run its click`);
    const keys: KeyboardEvent = { shiftKey: false, ctrlKey: false, altKey: false, metaKey: false, triggeredByAccelerator: false };
    item.click?.(item as unknown as MenuItem, undefined, keys);
  }
}

export class TrayDouble implements Pick<Tray, 'setContextMenu' | 'setImage' | 'setToolTip' | 'destroy' | 'isDestroyed'> {
  static readonly all: TrayDouble[] = [];
  menu: MenuDouble | undefined;
  image = '';
  /** Whether the image file could be read: Electron shows an empty icon for one it cannot. */
  imageLoaded = false;
  toolTip = '';
  private destroyed = false;

  constructor(image: NativeImage | string, _guid?: string) {
    this.setImage(image);
    TrayDouble.all.push(this);
  }

  setContextMenu(menu: Menu | null): void {
    this.menu = (menu as unknown as MenuDouble | null) ?? undefined;
  }

  setImage(image: NativeImage | string): void {
    this.image = String(image);
    try {
      this.imageLoaded = readFileSync(this.image).subarray(1, 4).toString('latin1') === 'PNG';
    } catch {
      this.imageLoaded = false;
    }
  }

  setToolTip(toolTip: string): void {
    this.toolTip = toolTip;
  }

  destroy(): void {
    this.destroyed = true;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
}
