"""The mine world and its vehicles: maps, road graph, trucks, facilities, the simulation engine and its KPIs."""
