package dev.portcullis.gateway.protocol.postgres.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.junit.jupiter.api.Test;

/** The analysis serialises to exactly the statements part of decision contract v2. */
class ContractJsonTest {

    private final ObjectMapper mapper = new ObjectMapper().configure(SerializationFeature.INDENT_OUTPUT, false);

    @Test
    void deleteSerialisesToTheContractShapeWithEveryKeyPresent() throws Exception {
        Analysis a = Sql.analyze("DELETE FROM public.users");
        assertEquals("{\"statements\":[{\"command\":\"DELETE\","
                + "\"tables\":[{\"schema\":\"public\",\"name\":\"users\",\"access\":\"write\"}],"
                + "\"functions\":[],\"has_where\":false,\"normalized\":\"DELETE FROM public.users\","
                + "\"via\":null,\"copy\":null,\"set_parameter\":null,\"prepared_name\":null}],"
                + "\"parse_error\":null}", mapper.writeValueAsString(a));
    }

    @Test
    void optionalPartsSerialiseWithSnakeCaseNames() throws Exception {
        Analysis a = Sql.analyze("COPY t TO PROGRAM 'x'; SET ROLE r; EXECUTE p");
        String json = mapper.writeValueAsString(a);
        assertEquals("{\"statements\":["
                + "{\"command\":\"COPY\",\"tables\":[{\"schema\":null,\"name\":\"t\",\"access\":\"read\"}],\"functions\":[],"
                + "\"has_where\":false,\"normalized\":\"COPY t TO PROGRAM ?\",\"via\":null,"
                + "\"copy\":{\"direction\":\"to\",\"program\":true},\"set_parameter\":null,\"prepared_name\":null},"
                + "{\"command\":\"SET\",\"tables\":[],\"functions\":[],\"has_where\":false,\"normalized\":\"SET ROLE r\","
                + "\"via\":null,\"copy\":null,\"set_parameter\":\"role\",\"prepared_name\":null},"
                + "{\"command\":\"EXECUTE\",\"tables\":[],\"functions\":[],\"has_where\":false,\"normalized\":\"EXECUTE p\","
                + "\"via\":null,\"copy\":null,\"set_parameter\":null,\"prepared_name\":\"p\"}],"
                + "\"parse_error\":\"statement 3: EXECUTE p: this session has no prepared statement of that name "
                + "(never prepared, deallocated, or forgotten)\"}", json);
    }

    @Test
    void sessionChangesAreNotPartOfTheJson() throws Exception {
        String json = mapper.writeValueAsString(Sql.analyze("PREPARE p AS SELECT 1"));
        assertEquals(false, json.contains("session"), json);
        assertEquals(true, json.contains("\"via\":\"prepare\""), json);
    }
}
