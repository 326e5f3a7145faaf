import type { RmiItemDto } from './dto/rmi-item.dto.js';
import type { RmiItem } from './rmi-item.entity.js';

export function toRmiItemDto(item: RmiItem): RmiItemDto {
  return {
    code: item.code,
    title: item.title,
    securityRelated: item.securityRelated,
    category: item.category,
    notes: item.notes,
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
  };
}
